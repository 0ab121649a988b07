#!/usr/bin/env bash
# Installs the Debian packages the test suite needs on a fresh machine; does nothing when they are present.
#   openmpi-bin: the real mpirun (Open MPI 4.1 on Debian 12) that the launch rehearsal runs.
#   openssh-client, openssh-server: ssh -G and sshd -t, which check the image recipe's ssh configs, and the
#     real sshd and ssh of the rehearsal's OpenSSH mode (one sshd per emulated worker pod).
#   util-linux, mount, hostname: unshare, setpriv, mount and hostname, which give each emulated pod its own
#     PID, mount and UTS namespaces, its user and its files in the OpenSSH mode.
#   python3: the launcher's wait step (a Python program) in the OpenSSH mode and its own tests.
# Run as root (or with sudo available). Safe to run again.
set -euo pipefail

packages=(openmpi-bin openssh-client openssh-server util-linux mount hostname python3)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies present: ${packages[*]}"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-test-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
mpirun --version | head -1
