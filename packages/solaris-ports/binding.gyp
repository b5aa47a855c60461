{
  "targets": [
    {
      "target_name": "async_io_ports",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["<!@(node -p \"require('@async-io/backend-core/gyp').sources.join(' ')\")"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='solaris'", { "sources": ["src/port.c"] }, { "sources": ["src/no-port.c", "<!(node -p \"require('@async-io/backend-core/gyp').stub\")"] }]
      ]
    }
  ]
}
