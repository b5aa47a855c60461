{
  "targets": [
    {
      "target_name": "ports_emulated",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["<!@(node -p \"require('@async-io/backend-core/gyp').sources.join(' ')\")"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", { "include_dirs": ["include"], "sources": ["../../src/port.c", "port_shim.c"] }, { "sources": ["../../src/no-port.c", "<!(node -p \"require('@async-io/backend-core/gyp').stub\")"] }]
      ]
    }
  ]
}
