#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for trying the slurm profile end to end:
# installs Debian's slurm-wlm and munge, writes a slurm.conf for one node on localhost,
# and starts munged, slurmctld and slurmd. Run as root. Safe to run again: it installs
# only what is missing and starts only daemons that are not running.
#   bash cluster/install_slurm.sh          install and start
#   bash cluster/install_slurm.sh stop     stop the daemons it started
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# Written by cluster/install_slurm.sh"
PIDS=(/run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid)

die() { echo "install_slurm.sh: $*" >&2; exit 1; }

stop() {
    for pidfile in "${PIDS[@]}"; do
        if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            kill "$(cat "$pidfile")" && echo "stopped $(basename "$pidfile" .pid)"
        fi
    done
}

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

case "${1:-start}" in
    stop) stop; exit 0 ;;
    start) ;;
    *) die "unknown command '$1' (use: start, stop)" ;;
esac

[ "$(id -u)" = 0 ] || die "run as root: it installs packages and starts daemons"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
        || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    command -v apt-get >/dev/null || die "apt-get not found: this script installs Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Keep the packages' own scripts from starting daemons: they are started below.
    policy=/usr/sbin/policy-rc.d
    own_policy=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
    fi
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
    [ -z "$own_policy" ] || rm -f "$policy"
fi

# munge authenticates the slurm daemons and clients to each other.
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile /etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
running /run/munge/munged.pid || runuser -u munge -- /usr/sbin/munged
munge -n | unmunge >/dev/null || die "munge does not work: see /var/log/munge/munged.log"

host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
if [ -e "$CONF" ] && ! head -1 "$CONF" | grep -qF "$MARK"; then
    die "$CONF exists and was not written by this script; leaving it alone"
fi
install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat >"$CONF" <<CONF
$MARK: one node on localhost, for tests.
ClusterName=landscapes
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No cgroups in containers: track processes by parent id, bind no tasks.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# No accounting database: finished jobs stay visible to squeue for an hour instead,
# which is what status queries use here (slurm-status-command: squeue).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=3600
InactiveLimit=0
KillWait=30
Waittime=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

running /run/slurmctld.pid || slurmctld
running /run/slurmd.pid || slurmd

# Wait for the node to register and become idle.
for _ in $(seq 60); do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
    case "$state" in idle | mixed | allocated) break ;; esac
    sleep 1
done
case "$state" in
    idle | mixed | allocated) ;;
    *) die "node did not come up (state '${state:-none}'): see /var/log/slurm/*.log" ;;
esac
sinfo
