#!/usr/bin/env bash
# Every candidate of candidates.yml has its playbook, generated from it and up to date.
set -euo pipefail
cd "$(dirname "$0")/../playbooks"
/usr/bin/python3 -c "import yaml" 2>/dev/null || { echo "skipped: python3-yaml missing"; exit 77; }
/usr/bin/python3 generate-candidates.py --check
n=$(ls candidates/*.yml | wc -l)
echo "ok: $n candidate playbooks, all up to date"
