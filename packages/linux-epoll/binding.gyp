{
  "targets": [
    {
      "target_name": "async_io_epoll",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["<!@(node -p \"require('@async-io/backend-core/gyp').sources.join(' ')\")"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux' or OS=='android'", { "sources": ["src/epoll.c"] }, { "sources": ["src/no-epoll.c", "<!(node -p \"require('@async-io/backend-core/gyp').stub\")"] }]
      ]
    }
  ]
}
