// The template driver (skeleton_driver.cpp): built as a library of its own and run by the
// conformance tests (tests/integration/driver_conformance_test.cpp) as a driver like the others,
// where it reports itself skipped with its probe's reason. Not in the harness's registry.
#pragma once

#include <memory>

#include "drivers/driver.h"

namespace ctrbench::skeleton {

std::unique_ptr<Driver> make_skeleton_driver();

}  // namespace ctrbench::skeleton
