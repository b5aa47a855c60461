{
  "targets": [
    {
      "target_name": "async_io_ports",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["src/binding.c"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='solaris'", { "sources": ["src/port.c"] }, { "sources": ["src/no-port.c"] }]
      ]
    }
  ]
}
