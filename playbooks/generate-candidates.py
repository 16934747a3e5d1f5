#!/usr/bin/python3
"""Writes playbooks/candidates/<name>.yml for every candidate of ../candidates.yml.

Each playbook composes the roles of playbooks/roles/ with the candidate's variables. Run it after
editing candidates.yml; `--check` only says whether the playbooks are up to date (the tests run it).
Debian's python3 (with python3-yaml, which ansible-core brings) runs it.
"""
import pathlib
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
DOCKER_DATA_ROOT = {"btrfs": "/var/lib/ctrbench/btrfs/docker"}  # the others: Docker's default
NO_DRIVER = set()  # managers ctrbench has no driver for yet


def roles_for(c, spec):
    m, rt, st = c["manager"], c["runtime"], c["storage"]
    roles = [{"role": "cgroup_version", "cgroup_version": c["cgroup"]}]
    need = spec["storage"].get(st) or {}
    if need.get("filesystem") or need.get("device"):
        check = {"role": "storage_check", "storage": st}
        if need.get("filesystem"):
            check["storage_filesystem"] = need["filesystem"]
        if need.get("device"):
            check["storage_device"] = need["device"]
        roles.append(check)
    if m in NO_DRIVER:
        return roles + [{"role": "unsupported", "unsupported_reason": f"ctrbench has no {m} driver yet"}]
    missing = (spec["runtimes"].get(rt) or {}).get("missing")
    if missing:
        return roles + [{"role": "unsupported", "unsupported_reason": f"runtime {rt} cannot be installed: {missing}"}]
    if st == "btrfs" and m != "lxd":  # LXD makes its btrfs pool's loop file itself
        roles.append({"role": "btrfs_loop"})
    if rt in ("crun", "runc", "runsc"):
        roles.append({"role": rt})
    if m == "docker":
        roles.append({"role": "docker", "docker_storage_driver": st,
                      "docker_data_root": DOCKER_DATA_ROOT.get(st, "/var/lib/docker")})
    elif m == "podman" and c["rootless"] == "rootless":
        roles.append({"role": "podman_rootless", "podman_rootless_storage": st})
    elif m == "podman":
        roles.append({"role": "podman"})
    elif m == "lxc":
        roles.append({"role": "lxc"})
    elif m == "lxd":
        roles.append({"role": "lxd", "lxd_btrfs_pool": st == "btrfs"})
    elif m == "microvm":
        roles.append({"role": "qemu_microvm"})
    elif m == "containerd":
        roles.append({"role": "containerd"})
    return roles


def render(c, spec):
    thesis = f" (row {c['thesis']} of the thesis's table)" if c.get("thesis") else ""
    roles = yaml.safe_dump(roles_for(c, spec), default_flow_style=None, sort_keys=False, width=200)
    roles = "".join("    " + line + "\n" for line in roles.splitlines())
    return (f"# Sets up this host for candidate {c['name']}{thesis}.\n"
            f"# Generated from candidates.yml by playbooks/generate-candidates.py: edit those, not this.\n"
            f"- name: Set up {c['name']}\n"
            f"  hosts: ctrbench\n"
            f"  gather_facts: false\n"
            f"  roles:\n{roles}")


def main():
    check = "--check" in sys.argv[1:]
    spec = yaml.safe_load((HERE.parent / "candidates.yml").read_text())
    out = HERE / "candidates"
    want = {f"{c['name']}.yml": render(c, spec) for c in spec["candidates"]}
    have = {p.name: p.read_text() for p in out.glob("*.yml")} if out.is_dir() else {}
    stale = sorted(set(have) - set(want))
    differ = sorted(n for n in want if have.get(n) != want[n])
    if check:
        for n in differ:
            print(f"out of date: playbooks/candidates/{n}")
        for n in stale:
            print(f"no such candidate: playbooks/candidates/{n}")
        return 1 if differ or stale else 0
    out.mkdir(exist_ok=True)
    for n in differ:
        (out / n).write_text(want[n])
    for n in stale:
        (out / n).unlink()
    print(f"{len(want)} candidate playbooks ({len(differ)} written, {len(stale)} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
