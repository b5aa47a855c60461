{
  "targets": [
    {
      "target_name": "kqueue_emulated",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["<!@(node -p \"require('@async-io/backend-core/gyp').sources.join(' ')\")"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", { "include_dirs": ["include"], "sources": ["../../src/kqueue.c", "kqueue_shim.c"] }, { "sources": ["../../src/no-kqueue.c", "<!(node -p \"require('@async-io/backend-core/gyp').stub\")"] }]
      ]
    },
    {
      "target_name": "kqueue_emulated_minimal",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["<!@(node -p \"require('@async-io/backend-core/gyp').sources.join(' ')\")"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"],
      "defines": ["KQ_SHIM_PROFILE_MINIMAL"],
      "conditions": [
        ["OS=='linux'", { "include_dirs": ["include"], "sources": ["../../src/kqueue.c", "kqueue_shim.c"] }, { "sources": ["../../src/no-kqueue.c", "<!(node -p \"require('@async-io/backend-core/gyp').stub\")"] }]
      ]
    }
  ]
}
