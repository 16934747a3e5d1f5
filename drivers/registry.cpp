#include "drivers/driver.h"
#include "drivers/lean/lean_driver.h"

namespace ctrbench {

// The table of built-in drivers: one line per driver.
DriverRegistry builtin_drivers() {
    DriverRegistry r;
    r.add("lean", "ctrbench's own runtime (namespaces, overlay, pooled cgroups)",
          [] { return std::make_unique<lean::LeanDriver>(); });
    return r;
}

}  // namespace ctrbench
