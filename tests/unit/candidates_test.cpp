// The candidate file: validation, the host constraint check on fake hosts, --matrix selections,
// the plan's order and the resume bookkeeping.
#include "harness/candidates.h"

#include <gtest/gtest.h>

#include "harness/engine_setup.h"
#include "harness/matrix.h"

namespace ctrbench {
namespace {

const std::string kHead = R"(version: 1
managers:
  lean: {runtimes: [lean], storage: [overlay], rootless: [rootful]}
  docker: {runtimes: [runc, crun], storage: [overlay2, vfs, btrfs, zfs], rootless: [rootful]}
  podman: {runtimes: [crun], storage: [overlay, vfs], rootless: [rootful, rootless]}
  lxd: {runtimes: [lxc], storage: [dir], rootless: [rootful]}
runtimes:
  lean: {}
  runc: {program: runc}
  crun: {program: crun}
  lxc: {program: lxc-start}
storage:
  overlay: {filesystem: overlay}
  overlay2: {filesystem: overlay}
  vfs: {}
  dir: {}
  btrfs: {filesystem: btrfs, program: mkfs.btrfs}
  zfs: {filesystem: zfs}
images: [minimal, full]
cgroups: [v1, v2]
rootless: [rootful, rootless]
rules:
  - when: {rootless: rootless}
    require: {cgroup: [v2]}
    why: cgroup v1 gives rootless containers no resource limits
candidates:
)";

std::string row(const std::string& m, const std::string& rt, const std::string& st, const std::string& img = "minimal",
                const std::string& cg = "v1", const std::string& rl = "rootful") {
    return "  - {name: " + m + "-" + rt + "-" + st + "-" + img + "-" + cg + "-" + rl + ", manager: " + m +
           ", runtime: " + rt + ", storage: " + st + ", image: " + img + ", cgroup: " + cg + ", rootless: " + rl +
           "}\n";
}

const std::string kRows = row("lean", "lean", "overlay") + row("docker", "runc", "overlay2") +
                          row("docker", "runc", "vfs") + row("docker", "crun", "btrfs") + row("docker", "runc", "zfs") +
                          row("podman", "crun", "overlay", "minimal", "v2", "rootless") + row("lxd", "lxc", "dir") +
                          row("lean", "lean", "overlay", "full", "v2") + row("docker", "crun", "overlay2");

CandidateFile good() {
    auto f = parse_candidates(kHead + kRows);
    EXPECT_TRUE(f) << f.error().message();
    return *f;
}

// This project's kind of host: v1 hybrid that cannot switch, overlay and btrfs, docker and lean.
HostFacts fake_host() {
    HostFacts h;
    h.cgroup = "v1";
    h.cgroup_switch = "memory:/x holds processes";
    h.filesystems = {"overlay", "btrfs", "ext4"};
    h.programs = {"runc", "crun", "mkfs.btrfs"};
    h.images = {"minimal", "full"};
    h.drivers = {{"lean", ""}, {"docker/runc", ""}, {"docker/crun", ""}, {"podman/crun", ""}};
    return h;
}

TEST(CandidateFile, TheProjectsFileIsValidAndHoldsTheThesisRows) {
    auto f = load_candidates(std::string(CTRBENCH_SOURCE_DIR) + "/candidates.yml");
    ASSERT_TRUE(f) << f.error().message();
    int thesis = 0;
    for (const auto& c : f->candidates) thesis += c.thesis > 0;
    EXPECT_EQ(thesis, 72);
    EXPECT_TRUE(f->find("lean-lean-overlay-minimal-v1-rootful"));
    EXPECT_TRUE(f->find("docker-runsc-overlay2-minimal-v1-rootful"));
    EXPECT_TRUE(f->find("podman-crun-overlay-minimal-v2-rootless"));
}

TEST(CandidateFile, UnknownComponentIsAClearError) {
    auto f = parse_candidates(kHead + row("docker", "youki", "overlay2"));
    ASSERT_FALSE(f);
    EXPECT_NE(f.error().message().find("candidate docker-youki-overlay2-minimal-v1-rootful: unknown runtime 'youki'"),
              std::string::npos)
        << f.error().message();
    auto g = parse_candidates(kHead + row("docker", "runc", "overlay2", "alpine"));
    ASSERT_FALSE(g);
    EXPECT_NE(g.error().message().find("unknown image 'alpine'"), std::string::npos) << g.error().message();
    auto k = parse_candidates(kHead +
                              "  - {name: x, manager: lean, runtime: lean, storage: overlay, image: minimal, cgroup: "
                              "v1, rootless: rootful, colour: red}\n");
    ASSERT_FALSE(k);
    EXPECT_NE(k.error().message().find("unknown key 'colour'"), std::string::npos) << k.error().message();
}

TEST(CandidateFile, ImpossibleCombinationsAreRefused) {
    auto lxd = parse_candidates(kHead + row("lxd", "runc", "dir"));
    ASSERT_FALSE(lxd);
    EXPECT_NE(lxd.error().message().find("lxd cannot run runtime runc"), std::string::npos) << lxd.error().message();
    auto storage = parse_candidates(kHead + row("podman", "crun", "overlay2"));
    ASSERT_FALSE(storage);
    EXPECT_NE(storage.error().message().find("podman has no storage driver overlay2"), std::string::npos);
    auto rootless_v1 = parse_candidates(kHead + row("podman", "crun", "overlay", "minimal", "v1", "rootless"));
    ASSERT_FALSE(rootless_v1);
    EXPECT_NE(rootless_v1.error().message().find("impossible combination: cgroup v1 gives rootless"),
              std::string::npos);
    auto rootless_docker = parse_candidates(kHead + row("docker", "runc", "overlay2", "minimal", "v2", "rootless"));
    ASSERT_FALSE(rootless_docker);
    EXPECT_NE(rootless_docker.error().message().find("docker cannot run rootless"), std::string::npos);
}

TEST(CandidateFile, NameMustMatchComponentsAndBeUnique) {
    auto f = parse_candidates(kHead +
                              "  - {name: fast-one, manager: lean, runtime: lean, storage: overlay, image: minimal, "
                              "cgroup: v1, rootless: rootful}\n");
    ASSERT_FALSE(f);
    EXPECT_NE(f.error().message().find("its name should be lean-lean-overlay-minimal-v1-rootful"), std::string::npos);
    auto twice = parse_candidates(kHead + row("lean", "lean", "overlay") + row("lean", "lean", "overlay"));
    ASSERT_FALSE(twice);
    EXPECT_NE(twice.error().message().find("listed twice"), std::string::npos);
    auto broken = parse_candidates(kHead + "  - {name: [unclosed\n");
    ASSERT_FALSE(broken);
}

TEST(Evaluate, RunnableAndSkippedSplitOnAFakeHost) {
    auto f = good();
    auto h = fake_host();
    std::map<std::string, std::string> got;
    for (const auto& c : f.candidates) got[c.name] = evaluate(f, c, h);
    EXPECT_EQ(got["lean-lean-overlay-minimal-v1-rootful"], "");
    EXPECT_EQ(got["docker-runc-overlay2-minimal-v1-rootful"], "");
    EXPECT_EQ(got["docker-runc-vfs-minimal-v1-rootful"], "");
    EXPECT_EQ(got["docker-crun-btrfs-minimal-v1-rootful"], "");
    EXPECT_NE(got["docker-runc-zfs-minimal-v1-rootful"].find("needs the zfs filesystem, which this kernel lacks"),
              std::string::npos);
    EXPECT_NE(got["podman-crun-overlay-minimal-v2-rootless"].find(
                  "needs cgroup v2; this host has v1 and cannot switch: memory:/x"),
              std::string::npos);
    EXPECT_EQ(got["lxd-lxc-dir-minimal-v1-rootful"], "ctrbench has no lxd driver yet");
    EXPECT_NE(got["lean-lean-overlay-full-v2-rootful"].find("needs cgroup v2"), std::string::npos);
}

TEST(Evaluate, HostDifferencesChangeTheReason) {
    auto f = good();
    auto h = fake_host();
    h.cgroup_switch.clear();  // a host that can switch: v2 candidates become runnable
    EXPECT_EQ(evaluate(f, *f.find("lean-lean-overlay-full-v2-rootful"), h), "");
    EXPECT_NE(evaluate(f, *f.find("podman-crun-overlay-minimal-v2-rootless"), h).find("rootful only"),
              std::string::npos);
    h.images.erase("full");
    EXPECT_NE(evaluate(f, *f.find("lean-lean-overlay-full-v2-rootful"), h).find("image full is not built"),
              std::string::npos);
    h.drivers["docker/runc"] = "dockerd is not running";
    EXPECT_EQ(evaluate(f, *f.find("docker-runc-vfs-minimal-v1-rootful"), h), "dockerd is not running");
    EXPECT_EQ(evaluate(f, *f.find("docker-crun-overlay2-minimal-v1-rootful"), h), "");
    h.programs.erase("crun");
    EXPECT_NE(evaluate(f, *f.find("docker-crun-overlay2-minimal-v1-rootful"), h)
                  .find("runtime crun needs crun, which is not installed"),
              std::string::npos);
    h.filesystems.erase("btrfs");
    EXPECT_NE(evaluate(f, *f.find("docker-crun-btrfs-minimal-v1-rootful"), h).find("btrfs filesystem"),
              std::string::npos);
}

TEST(Select, AllFiltersAndNames) {
    auto f = good();
    EXPECT_EQ(select_candidates(f, "all")->size(), f.candidates.size());
    auto docker = select_candidates(f, "driver=docker,storage=overlay2|vfs");
    ASSERT_TRUE(docker);
    EXPECT_EQ(docker->size(), 3u);
    auto names = select_candidates(f, "lxd-lxc-dir-minimal-v1-rootful,lean-lean-overlay-minimal-v1-rootful");
    ASSERT_TRUE(names);
    EXPECT_EQ(names->size(), 2u);
    EXPECT_NE(select_candidates(f, "nope").error().message().find("unknown candidate 'nope'"), std::string::npos);
    EXPECT_NE(select_candidates(f, "colour=red").error().message().find("unknown key 'colour'"), std::string::npos);
    EXPECT_NE(select_candidates(f, "storage=aufs").error().message().find("no candidate has storage=aufs"),
              std::string::npos);
    EXPECT_NE(select_candidates(f, "driver=lxd,storage=overlay").error().message().find("no candidate matches"),
              std::string::npos);
    EXPECT_FALSE(select_candidates(f, ""));
}

TEST(Plan, GroupsEngineConfigurationsCurrentFirstAndCountsReconfigurations) {
    auto f = good();
    auto h = fake_host();
    auto sel = select_candidates(f, "all");
    auto workloads = builtin_workloads();
    MatrixSettings st;
    st.tests = {"boot", "sqlite-read"};
    // The engine settings as the drivers state them (docker's storage is its daemon's).
    auto settings = candidate_settings(builtin_drivers(), f);
    EXPECT_EQ(settings["docker-runc-vfs-minimal-v1-rootful"], "docker:vfs");
    EXPECT_FALSE(settings.contains("lean-lean-overlay-minimal-v1-rootful"));
    auto plan = make_plan(f, *sel, h, settings, {{"docker", "docker:vfs"}}, workloads, st);
    std::vector<std::string> order;
    for (const auto& e : plan.runnable) order.push_back(e.def->name);
    ASSERT_EQ(order.size(), 5u);
    EXPECT_EQ(order[0], "lean-lean-overlay-minimal-v1-rootful");  // needs no engine configuration
    EXPECT_EQ(order[1], "docker-runc-vfs-minimal-v1-rootful");    // docker's current storage
    int reconfigurations = 0;
    for (const auto& e : plan.runnable) reconfigurations += !e.reconfigure.empty();
    EXPECT_EQ(reconfigurations, 2);  // vfs -> btrfs -> overlay2 (two overlay2 candidates share one)
    EXPECT_EQ(plan.runnable[2].reconfigure, "docker: storage vfs -> btrfs");
    EXPECT_GT(plan.estimate_s, 2 * f.estimate.reconfigure - 1);
    EXPECT_EQ(plan.skipped.size(), 4u);
    // --quick leaves docker's storage as it is: the candidates that would change it are skipped, saying why.
    st.quick = true;
    plan = make_plan(f, *sel, h, settings, {{"docker", "docker:vfs"}}, workloads, st);
    ASSERT_EQ(plan.runnable.size(), 2u);
    for (const auto& e : plan.runnable) EXPECT_TRUE(e.reconfigure.empty()) << e.def->name;
    int quick_skips = 0;
    for (const auto& e : plan.skipped)
        quick_skips += e.skip.starts_with("quick: docker's storage would change to ") &&
                       e.skip.find("the full matrix runs it") != std::string::npos;
    EXPECT_EQ(quick_skips, 3);
    // --quick: the smallest parameter only, no warmup, 3 boot runs and 1 of the others.
    const auto& units = plan.runnable[0].units;
    ASSERT_EQ(units.size(), 2u);
    EXPECT_EQ(units[0].runs, 3);
    EXPECT_EQ(units[1].workload, "sqlite-read");
    EXPECT_EQ(units[1].param, workloads.find("sqlite-read")->param_values().front());
    EXPECT_EQ(units[1].runs, 1);
    EXPECT_EQ(units[1].warmup, 0);
}

TEST(Plan, QuickRunsEveryWorkloadOncePerEngineAndBootOnEveryImageAndStorage) {
    auto f = parse_candidates(kHead + row("lean", "lean", "overlay") + row("lean", "lean", "overlay", "full") +
                              row("docker", "runc", "overlay2", "full") + row("docker", "runc", "vfs"));
    ASSERT_TRUE(f) << f.error().message();
    auto workloads = builtin_workloads();
    MatrixSettings st;
    st.quick = true;
    // lean restores a checkpoint (CRIU in its containers), docker with runc does not.
    Capabilities restores;
    restores.checkpoint = true;
    const std::map<std::string, Capabilities> caps = {{"lean/lean", restores}, {"docker/runc", Capabilities{}}};
    const auto own_image = static_cast<std::size_t>(std::count_if(workloads.all().begin(), workloads.all().end(),
                                                                  [](const auto& w) { return !w->image().empty(); }));
    ASSERT_EQ(own_image, 3u);  // service, service-restored, service-pool
    auto plan = make_plan(*f, *select_candidates(*f, "all"), fake_host(), {}, {}, workloads, st, caps);
    ASSERT_EQ(plan.runnable.size(), 4u);
    EXPECT_EQ(plan.runnable[0].units.size(), workloads.all().size());  // the engine's first candidate: everything
    EXPECT_TRUE(plan.runnable[0].quick_note.empty());
    ASSERT_EQ(plan.runnable[1].units.size(), 1u);  // the same stack with the full image: boot alone
    EXPECT_EQ(plan.runnable[1].units[0].workload, "boot");
    EXPECT_EQ(plan.runnable[1].units[0].runs, 3);
    EXPECT_NE(plan.runnable[1].quick_note.find("boot only"), std::string::npos);
    // Another engine: everything but the service workloads (quick: only where a restore compares).
    EXPECT_EQ(plan.runnable[2].units.size(), workloads.all().size() - own_image);
    ASSERT_EQ(plan.runnable[3].units.size(), 1u);  // the same engine on another storage: boot alone
    EXPECT_EQ(plan.runnable[3].units[0].workload, "boot");
    EXPECT_NE(format_plan(plan, *select_candidates(*f, "all"), *f, st).find("boot only"), std::string::npos);
    // Asked for workloads by name, or not quick: every candidate runs them.
    st.tests = {"sqlite-read"};
    plan = make_plan(*f, *select_candidates(*f, "all"), fake_host(), {}, {}, workloads, st);
    for (const auto& e : plan.runnable) EXPECT_EQ(e.units.size(), 1u) << e.def->name;
    st.tests.clear();
    st.quick = false;
    plan = make_plan(*f, *select_candidates(*f, "all"), fake_host(), {}, {}, workloads, st, caps);
    // The full plan: everything everywhere, the service workloads (their own image) on minimal candidates
    // only, every parameter: python and jvm twice, pools of 0 and 2.
    auto service_units = [](const MatrixEntry& e) {
        return std::count_if(e.units.begin(), e.units.end(),
                             [](const auto& u) { return u.workload.starts_with("service"); });
    };
    EXPECT_EQ(service_units(plan.runnable[0]), 6);
    EXPECT_EQ(service_units(plan.runnable[1]), 0) << "the full image's candidate";
    EXPECT_EQ(plan.runnable[1].units.size(), plan.runnable[0].units.size() - 6);
}

TEST(Plan, FullRunsEveryParameterWithEachWorkloadsDefaults) {
    auto f = good();
    auto workloads = builtin_workloads();
    MatrixSettings st;
    st.tests = {"sqlite-read", "throughput"};
    auto plan =
        make_plan(f, *select_candidates(f, "lean-lean-overlay-minimal-v1-rootful"), fake_host(), {}, {}, workloads, st);
    ASSERT_EQ(plan.runnable.size(), 1u);
    const auto& u = plan.runnable[0].units;
    EXPECT_EQ(u.size(), workloads.find("sqlite-read")->param_values().size() +
                            workloads.find("throughput")->param_values().size());
    EXPECT_EQ(u.front().runs, 20);
    EXPECT_EQ(u.front().warmup, 3);
    EXPECT_EQ(u.back().runs, workloads.find("throughput")->default_runs());
}

TEST(Resume, ProgressCountsRecordedRunsAndRedoesInterruptedOnes) {
    auto r = [](std::string w, std::string warm, std::string status) {
        return std::map<std::string, std::string>{
            {"candidate", "c"}, {"workload", w}, {"param", ""}, {"warmup", warm}, {"status", status}};
    };
    auto p = progress_from_rows({r("boot", "1", "ok"), r("boot", "0", "ok"), r("boot", "0", "error"),
                                 r("boot", "0", "interrupted"), r("http", "0", "error"), r("http", "0", "timeout"),
                                 r("http", "0", "error"), r("*", "0", "skipped")});
    EXPECT_EQ(p[unit_key("c", "boot", "")].warmup, 1);
    EXPECT_EQ(p[unit_key("c", "boot", "")].runs, 2);  // the interrupted run is redone
    EXPECT_EQ(p[unit_key("c", "boot", "")].trailing_errors, 1);
    EXPECT_EQ(p[unit_key("c", "http", "")].trailing_errors, 3);  // abandoned: not retried
    EXPECT_TRUE(p[unit_key("c", "*", "")].skipped);
}

TEST(Duration, Formats) {
    EXPECT_EQ(format_duration(12.4), "12s");
    EXPECT_EQ(format_duration(245), "4m05s");
    EXPECT_EQ(format_duration(3720), "1h02m");
}

}  // namespace
}  // namespace ctrbench
