{
  "targets": [
    {
      "target_name": "tsrunc",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/spawn.cc",
        "native/addon/fdio.cc",
        "native/addon/process.cc",
        "native/addon/bpf.cc",
        "native/addon/mount.cc",
        "native/addon/fsat.cc",
        "native/addon/fsops.cc",
        "native/addon/hookproc.cc",
        "native/addon/mapfile.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "cflags_cc": ["-std=c++17", "-Wall", "-O2"]
    },
    {
      "target_name": "tsrunc-init",
      "type": "executable",
      "sources": [
        "native/init/main.c",
        "native/init/plan.c",
        "native/init/report.c",
        "native/init/ops_ns.c",
        "native/init/ops_fs.c",
        "native/init/ops_process.c",
        "native/init/ops_lifecycle.c",
        "native/init/ops_console.c",
        "native/init/ops_hooks.c",
        "native/init/ops_lsm.c",
        "native/init/ops_net.c",
        "native/init/ops_user.c",
        "native/init/ops_idmap.c",
        "native/init/ops_root.c",
        "native/init/seccomp_check.c"
      ],
      "include_dirs": ["native"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2", "-fno-stack-protector"],
      "ldflags": ["-static", "-s"]
    },
    {
      "target_name": "tsrunc-hookstub",
      "type": "executable",
      "sources": ["native/hookstub/main.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "ldflags": ["-static", "-s"]
    },
    {
      "target_name": "containerd-shim-tsrunc-v2",
      "type": "executable",
      "sources": [
        "native/shimlaunch/main.c",
        "native/shimlaunch/start.c",
        "native/shimlaunch/delete.c",
        "native/shimlaunch/group.c",
        "native/shimlaunch/sha256.c",
        "native/shimlaunch/address.c",
        "native/shimlaunch/util.c",
        "native/shimlaunch/reserve.c",
        "native/shimlaunch/options.c",
        "native/shimlaunch/pb.c"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "ldflags": ["-static", "-s"]
    }
  ]
}
