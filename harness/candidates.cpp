#include "harness/candidates.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace ctrbench {
namespace {

const std::vector<std::string> kKeys = {"manager", "runtime", "storage", "image", "cgroup", "rootless"};

std::string join(const std::set<std::string>& s, const char* sep = ", ") {
    std::string out;
    for (const auto& v : s) out += (out.empty() ? "" : sep) + v;
    return out;
}

std::set<std::string> string_set(const YAML::Node& n, const std::string& what) {
    if (!n || !n.IsSequence()) throw std::runtime_error(what + " must be a list");
    std::set<std::string> out;
    for (const auto& v : n) out.insert(v.as<std::string>());
    return out;
}

Requirement requirement(const YAML::Node& n) {
    Requirement r;
    if (n["program"]) r.program = n["program"].as<std::string>();
    if (n["filesystem"]) r.filesystem = n["filesystem"].as<std::string>();
    if (n["device"]) r.device = n["device"].as<std::string>();
    if (n["missing"]) r.missing = n["missing"].as<std::string>();
    return r;
}

std::map<std::string, double> number_map(const YAML::Node& n) {
    std::map<std::string, double> out;
    if (n)
        for (const auto& kv : n) out[kv.first.as<std::string>()] = kv.second.as<double>();
    return out;
}

// The checks of one candidate against the file's sets and rules: "" or the problem.
std::string check(const CandidateFile& f, const CandidateDef& d) {
    const Candidate& c = d.columns;
    auto known = [](const std::set<std::string>& s, const std::string& v) { return s.contains(v); };
    auto m = f.managers.find(c.driver);
    if (m == f.managers.end()) return "unknown manager '" + c.driver + "'";
    if (!f.runtimes.contains(c.runtime)) return "unknown runtime '" + c.runtime + "'";
    if (!f.storage.contains(c.storage)) return "unknown storage '" + c.storage + "'";
    if (!known(f.images, c.image)) return "unknown image '" + c.image + "' (valid: " + join(f.images) + ")";
    if (!known(f.cgroups, c.cgroup)) return "unknown cgroup '" + c.cgroup + "' (valid: " + join(f.cgroups) + ")";
    if (!known(f.rootless, c.rootless))
        return "unknown rootless '" + c.rootless + "' (valid: " + join(f.rootless) + ")";
    if (!m->second.runtimes.contains(c.runtime))
        return c.driver + " cannot run runtime " + c.runtime + " (it runs: " + join(m->second.runtimes) + ")";
    if (!m->second.storage.contains(c.storage))
        return c.driver + " has no storage driver " + c.storage + " (it has: " + join(m->second.storage) + ")";
    if (!m->second.rootless.contains(c.rootless)) return c.driver + " cannot run " + c.rootless;
    for (const auto& rule : f.rules) {
        bool applies = true;
        for (const auto& [k, v] : rule.when) applies = applies && component(c, k) == v;
        if (!applies) continue;
        for (const auto& [k, allowed] : rule.require)
            if (!allowed.contains(component(c, k))) return "impossible combination: " + rule.why;
    }
    std::string expected;
    for (const auto& k : kKeys) expected += (expected.empty() ? "" : "-") + component(c, k);
    if (d.name != expected)
        return "its name should be " + expected + " (manager-runtime-storage-image-cgroup-rootless)";
    return "";
}

}  // namespace

std::string component(const Candidate& c, const std::string& key) {
    if (key == "manager" || key == "driver") return c.driver;
    if (key == "runtime") return c.runtime;
    if (key == "storage") return c.storage;
    if (key == "image") return c.image;
    if (key == "cgroup") return c.cgroup;
    if (key == "rootless") return c.rootless;
    return "";
}

const CandidateDef* CandidateFile::find(const std::string& name) const {
    for (const auto& c : candidates)
        if (c.name == name) return &c;
    return nullptr;
}

namespace {

// The rules section: each rule's when/require keys must be candidate columns.
Status parse_rules(const YAML::Node& rules, CandidateFile& f) {
    for (const auto& r : rules) {
        Rule rule;
        for (const auto& kv : r["when"]) rule.when[kv.first.as<std::string>()] = kv.second.as<std::string>();
        for (const auto& kv : r["require"]) rule.require[kv.first.as<std::string>()] = string_set(kv.second, "require");
        rule.why = r["why"] ? r["why"].as<std::string>() : "";
        for (const auto& [k, v] : rule.when)
            if (std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end())
                return fail_msg("rules: unknown key '" + k + "'");
        for (const auto& [k, v] : rule.require)
            if (std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end())
                return fail_msg("rules: unknown key '" + k + "'");
        f.rules.push_back(std::move(rule));
    }
    return {};
}

// One candidate (the i-th): known keys, a name, every column, listed once, possible by the rules.
Status parse_candidate(const YAML::Node& n, int i, CandidateFile& f, std::set<std::string>& seen, std::string& where) {
    CandidateDef d;
    if (!n.IsMap()) return fail_msg("candidate " + std::to_string(i) + ": not a mapping");
    for (const auto& kv : n) {
        auto k = kv.first.as<std::string>();
        if (k != "name" && k != "thesis" && std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end())
            return fail_msg("candidate " + std::to_string(i) + ": unknown key '" + k + "'");
    }
    d.name = n["name"] ? n["name"].as<std::string>() : "";
    if (d.name.empty()) return fail_msg("candidate " + std::to_string(i) + ": no name");
    where = "candidate " + d.name;
    for (const auto& k : kKeys)
        if (!n[k]) return fail_msg("candidate " + d.name + ": no " + k);
    d.columns = {n["manager"].as<std::string>(), n["runtime"].as<std::string>(), n["storage"].as<std::string>(),
                 n["image"].as<std::string>(),   n["cgroup"].as<std::string>(),  n["rootless"].as<std::string>()};
    d.thesis = n["thesis"] ? n["thesis"].as<int>() : 0;
    if (!seen.insert(d.name).second) return fail_msg("candidate " + d.name + ": listed twice");
    if (auto why = check(f, d); !why.empty()) return fail_msg("candidate " + d.name + ": " + why);
    f.candidates.push_back(std::move(d));
    return {};
}

// Everything but the candidates; `where` follows the section being read, for the error message.
Status parse_sections(const YAML::Node& doc, CandidateFile& f, std::string& where) {
    if (!doc.IsMap()) return fail_msg("not a mapping of managers, runtimes, storage, rules and candidates");
    if (!doc["version"] || doc["version"].as<int>() != 1) return fail_msg("version must be 1");
    where = "managers";
    if (!doc["managers"] || !doc["managers"].IsMap()) return fail_msg("managers must be a mapping");
    for (const auto& kv : doc["managers"]) {
        const auto name = kv.first.as<std::string>();
        where = "manager " + name;
        f.managers[name] = {string_set(kv.second["runtimes"], "runtimes"), string_set(kv.second["storage"], "storage"),
                            string_set(kv.second["rootless"], "rootless")};
    }
    where = "runtimes";
    for (const auto& kv : doc["runtimes"]) f.runtimes[kv.first.as<std::string>()] = requirement(kv.second);
    where = "storage";
    for (const auto& kv : doc["storage"]) f.storage[kv.first.as<std::string>()] = requirement(kv.second);
    where = "images";
    f.images = string_set(doc["images"], "images");
    where = "cgroups";
    f.cgroups = string_set(doc["cgroups"], "cgroups");
    where = "rootless";
    f.rootless = string_set(doc["rootless"], "rootless");
    where = "rules";
    if (doc["rules"])
        if (auto s = parse_rules(doc["rules"], f); !s) return s;
    where = "estimate";
    if (auto e = doc["estimate"]) {
        f.estimate.container = number_map(e["container"]);
        f.estimate.workload = number_map(e["workload"]);
        if (e["reconfigure"]) f.estimate.reconfigure = e["reconfigure"].as<double>();
    }
    return {};
}

}  // namespace

Result<CandidateFile> parse_candidates(const std::string& text) {
    CandidateFile f;
    std::string where = "the header";
    try {
        YAML::Node doc = YAML::Load(text);
        if (auto s = parse_sections(doc, f, where); !s) return fail(std::move(s.error()));
        where = "candidates";
        if (!doc["candidates"] || !doc["candidates"].IsSequence()) return fail_msg("candidates must be a list");
        std::set<std::string> seen;
        int i = 0;
        for (const auto& n : doc["candidates"]) {
            where = "candidate " + std::to_string(++i);
            if (auto s = parse_candidate(n, i, f, seen, where); !s) return fail(std::move(s.error()));
        }
    } catch (const YAML::Exception& e) {
        return fail_msg("in " + where + ": " + e.what());
    } catch (const std::exception& e) {
        return fail_msg("in " + where + ": " + e.what());
    }
    return f;
}

Result<CandidateFile> load_candidates(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) return fail_sys("open candidate file " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    auto f = parse_candidates(s.str());
    if (!f) return fail(std::move(f.error()).wrap(path.string()));
    return f;
}

std::string evaluate(const CandidateFile& file, const CandidateDef& cand, const HostFacts& host) {
    const Candidate& c = cand.columns;
    const std::string key = host.drivers.contains(c.driver + "/" + c.runtime) ? c.driver + "/" + c.runtime : c.driver;
    bool has_driver = false;
    for (const auto& [k, v] : host.drivers) has_driver = has_driver || k == c.driver || k.starts_with(c.driver + "/");
    if (!has_driver) return "ctrbench has no " + c.driver + " driver yet";
    if (c.cgroup != host.cgroup && !host.cgroup_switch.empty())
        return "needs cgroup " + c.cgroup + "; this host has " + host.cgroup +
               " and cannot switch: " + host.cgroup_switch;
    const Requirement& st = file.storage.at(c.storage);
    if (!st.filesystem.empty() && !host.filesystems.contains(st.filesystem))
        return "storage " + c.storage + " needs the " + st.filesystem + " filesystem, which this kernel lacks";
    if (!st.device.empty() && !host.devices.contains(st.device))
        return "storage " + c.storage + " needs " + st.device + " (device-mapper), which this kernel lacks";
    if (!st.program.empty() && !host.programs.contains(st.program))
        return "storage " + c.storage + " needs " + st.program + " (ansible-playbook playbooks/candidates/" +
               cand.name + ".yml)";
    const Requirement& rt = file.runtimes.at(c.runtime);
    if (!rt.program.empty() && !host.programs.contains(rt.program))
        return "runtime " + c.runtime + " needs " + rt.program + ", which is not installed" +
               (rt.missing.empty() ? "" : " (" + rt.missing + ")");
    if (c.rootless == "rootless" && !host.rootless_drivers.contains(c.driver))
        return "ctrbench's " + c.driver + " driver runs rootful only (rootless is not implemented yet)";
    auto d = host.drivers.find(key);
    if (d == host.drivers.end()) return "ctrbench's " + c.driver + " driver cannot use runtime " + c.runtime;
    if (!d->second.empty()) return d->second;
    if (!host.images.contains(c.image))
        return "image " + c.image + " is not built (cmake --build build --target " +
               (c.image == "full" ? "image-full" : "images") + ")";
    return "";
}

Result<std::vector<const CandidateDef*>> select_candidates(const CandidateFile& file, const std::string& spec) {
    std::vector<const CandidateDef*> out;
    if (spec.empty())
        return fail_msg(
            "--matrix needs a selection: all, a filter like driver=docker,storage=btrfs, or candidate names");
    if (spec == "all") {
        for (const auto& c : file.candidates) out.push_back(&c);
        return out;
    }
    std::vector<std::string> parts;
    std::stringstream in(spec);
    for (std::string p; std::getline(in, p, ',');)
        if (!p.empty()) parts.push_back(p);
    const bool filter = spec.find('=') != std::string::npos;
    if (!filter) {
        for (const auto& p : parts) {
            const auto* c = file.find(p);
            if (!c)
                return fail_msg("unknown candidate '" + p +
                                "' in --matrix (harness --matrix all --dry-run lists them)");
            if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
        }
        return out;
    }
    std::map<std::string, std::set<std::string>> want;
    for (const auto& p : parts) {
        auto eq = p.find('=');
        if (eq == std::string::npos)
            return fail_msg("--matrix filter part '" + p + "' is not KEY=VALUE (mix of names and a filter?)");
        auto key = p.substr(0, eq);
        if (key == "driver") key = "manager";
        if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
            return fail_msg("unknown key '" + p.substr(0, eq) +
                            "' in --matrix (valid: driver, manager, runtime, storage, image, cgroup, rootless)");
        std::stringstream vs(p.substr(eq + 1));
        for (std::string v; std::getline(vs, v, '|');) {
            bool exists = false;
            for (const auto& c : file.candidates) exists = exists || component(c.columns, key) == v;
            if (!exists) return fail_msg("no candidate has " + key + "=" + v + " (in --matrix " + spec + ")");
            want[key].insert(v);
        }
    }
    for (const auto& c : file.candidates) {
        bool match = true;
        for (const auto& [k, vs] : want) match = match && vs.contains(component(c.columns, k));
        if (match) out.push_back(&c);
    }
    if (out.empty()) return fail_msg("no candidate matches --matrix " + spec);
    return out;
}

}  // namespace ctrbench
