{
  "targets": [
    {
      "target_name": "async_io_poll",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["<!@(node -p \"require('@async-io/backend-core/gyp').sources.join(' ')\")", "src/poll.c"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"]
    }
  ]
}
