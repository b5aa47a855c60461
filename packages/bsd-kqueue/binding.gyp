{
  "targets": [
    {
      "target_name": "async_io_kqueue",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["<!@(node -p \"require('@async-io/backend-core/gyp').sources.join(' ')\")"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", { "sources": ["src/kqueue.c"] }, { "sources": ["src/no-kqueue.c", "<!(node -p \"require('@async-io/backend-core/gyp').stub\")"] }]
      ]
    }
  ]
}
