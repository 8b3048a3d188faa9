#!/usr/bin/env bash
# Backups for point-in-time recovery (docs/high-availability.md): a base backup taken with
# pg_basebackup, plus every WAL segment the server archives afterwards; deploy/restore-drill.sh
# restores them to any moment after the base backup.
#
#   deploy/backup.sh archive-settings ARCHIVE_DIR   the postgresql.conf lines that archive WAL
#                                                   into ARCHIVE_DIR (archive_mode needs a restart)
#   deploy/backup.sh base DATABASE_URL BACKUP_DIR   take a base backup into BACKUP_DIR (new/empty)
#
# DATABASE_URL is a libpq URL (postgresql://user@host:port/db) of a user with the REPLICATION
# attribute; run `base` from cron (daily, say), and keep the WAL archive since the oldest kept
# base backup. ARCHIVE_DIR belongs on other storage than the database (another host's share).
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}

usage() { sed -n '6,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

archive_settings() {
  local archive
  archive=$(realpath -m "$1")
  # An existing segment is never overwritten: a second server archiving into the same folder
  # (a restored copy, a promoted standby on an old timeline) fails loudly instead.
  cat <<CONF
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $archive/%f && cp %p $archive/%f.part && mv $archive/%f.part $archive/%f'
archive_timeout = 60
CONF
}

base() {
  local url=${1/postgresql+psycopg:/postgresql:} target=$2
  # --checkpoint=fast: start now rather than after a spread checkpoint (minutes on a quiet
  # server); -X stream: the WAL the backup itself needs travels with it, so the base backup
  # alone restores to its end point even if the archive were lost.
  "$PG_BIN/pg_basebackup" --dbname "$url" --pgdata "$target" --format plain \
    --wal-method stream --checkpoint fast --no-password
  date --utc +%Y-%m-%dT%H:%M:%SZ >"$target/backup-taken-at"
  echo "base backup in $target"
}

case ${1:-} in
  archive-settings) [ $# = 2 ] || usage; archive_settings "$2" ;;
  base) [ $# = 3 ] || usage; base "$2" "$3" ;;
  *) usage ;;
esac
