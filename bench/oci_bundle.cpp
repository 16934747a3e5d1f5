// oci_bundle DIR ROOTFS NAME ARGS...: writes DIR/config.json exactly as the OCI driver would for a
// container NAME running ARGS (the project's default limits), for timing `crun run` on the same bundle.
#include <cstdio>
#include <fstream>

#include "drivers/common/oci_config.h"

int main(int argc, char** argv) {
    if (argc < 5) return std::fprintf(stderr, "usage: oci_bundle DIR ROOTFS NAME ARGS...\n"), 2;
    ctrbench::ContainerSpec spec;
    spec.rootfs = argv[2];
    spec.name = argv[3];
    spec.init.assign(argv + 4, argv + argc);
    auto config = ctrbench::oci::make_config(spec, {spec.name});
    if (!config) return std::fprintf(stderr, "oci_bundle: %s\n", config.error().message().c_str()), 1;
    std::ofstream(std::string(argv[1]) + "/config.json") << config->dump(2);
    return 0;
}
