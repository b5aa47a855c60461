{
  "targets": [
    {
      "target_name": "ports_emulated",
      "include_dirs": ["<!(node -p \"require('@async-io/backend-core/gyp').include\")"],
      "sources": ["../../src/binding.c"],
      "cflags_c": ["-std=gnu11", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", { "include_dirs": ["include"], "sources": ["../../src/port.c", "port_shim.c"] }, { "sources": ["../../src/no-port.c"] }]
      ]
    }
  ]
}
