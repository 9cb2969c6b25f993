#!/usr/bin/env bash
# Install plivoxml-fs as a systemd service from this checkout (run as root):
#
#   scripts/install.sh            install or upgrade; does not start or restart the service
#   scripts/install.sh --start    ... then enable it and (re)start it
#
# Creates: system user plivoxml-fs; /opt/plivoxml-fs (a copy of the source and its .venv);
# /etc/plivoxml-fs/plivoxml-fs.toml and plivoxml-fs.env (only if absent; never overwritten);
# /etc/systemd/system/plivoxml-fs.service. The state directory /var/lib/plivoxml-fs is made by
# systemd (StateDirectory=). FreeSWITCH itself is not touched: see freeswitch/README.md.
# Env: PYTHON (python3.11 or newer; default python3).
set -euo pipefail

readonly USER_NAME=plivoxml-fs
readonly APP_DIR=/opt/plivoxml-fs
readonly CONF_DIR=/etc/plivoxml-fs
readonly UNIT_PATH=/etc/systemd/system/plivoxml-fs.service
PYTHON=${PYTHON:-python3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
START=no

die() { echo "install.sh: $*" >&2; exit 1; }

case "${1:-}" in
  "") ;;
  --start) START=yes ;;
  *) die "unknown argument '$1' (use --start or nothing)" ;;
esac
[ "$(id -u)" -eq 0 ] || die "must run as root (it creates a user and writes under /opt and /etc)"
[ -f "$SRC/pyproject.toml" ] && [ -d "$SRC/plivoxml_fs" ] || die "$SRC is not a plivoxml-fs checkout"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PYTHON is older than Python 3.11 (set PYTHON=/path/to/python3.11)"

if ! id -u "$USER_NAME" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/plivoxml-fs --no-create-home \
          --shell /usr/sbin/nologin --comment "plivoxml-fs daemon" "$USER_NAME"
  echo "created system user $USER_NAME"
fi

# The code: a root-owned copy the service user can read but not change.
install -d -m 0755 "$APP_DIR"
tar -C "$SRC" --exclude=.git --exclude=.venv --exclude='*.egg-info' --exclude=__pycache__ \
    --exclude=.pytest_cache --exclude=.ruff_cache --exclude=.hypothesis -cf - . \
  | tar -C "$APP_DIR" --no-same-owner -xf -
[ -x "$APP_DIR/.venv/bin/python" ] || "$PYTHON" -m venv "$APP_DIR/.venv"
"$APP_DIR/.venv/bin/python" -m pip install --quiet --upgrade pip
"$APP_DIR/.venv/bin/python" -m pip install --quiet "$APP_DIR"
echo "installed $("$APP_DIR/.venv/bin/plivoxml-fs" --version 2>/dev/null || echo plivoxml-fs) in $APP_DIR"

# Configuration: created once, then it is the operator's.
install -d -m 0750 -o root -g "$USER_NAME" "$CONF_DIR"
if [ ! -e "$CONF_DIR/plivoxml-fs.toml" ]; then
  grep -v '^freeswitch_password' "$SRC/examples/plivoxml-fs.toml" > "$CONF_DIR/plivoxml-fs.toml"
  chown root:"$USER_NAME" "$CONF_DIR/plivoxml-fs.toml"
  chmod 0640 "$CONF_DIR/plivoxml-fs.toml"
  echo "wrote $CONF_DIR/plivoxml-fs.toml (edit answer_url)"
fi
if [ ! -e "$CONF_DIR/plivoxml-fs.env" ]; then
  umask 027
  cat > "$CONF_DIR/plivoxml-fs.env" <<'EOF'
# Secrets for plivoxml-fs (read by systemd, mode 0640). The password must match
# event_socket.conf.xml in FreeSWITCH.
PLIVOXML_FS_FREESWITCH_PASSWORD=CHANGE-ME-to-a-long-random-password
EOF
  chown root:"$USER_NAME" "$CONF_DIR/plivoxml-fs.env"
  echo "wrote $CONF_DIR/plivoxml-fs.env (set the FreeSWITCH event socket password)"
fi

# Refuse to go on with a configuration the daemon would reject at start.
set -a
# shellcheck disable=SC1091
. "$CONF_DIR/plivoxml-fs.env"
set +a
"$APP_DIR/.venv/bin/python" -c '
import sys
from plivoxml_fs.config import load_settings
from plivoxml_fs.errors import ConfigError
try:
    load_settings(sys.argv[1])
except ConfigError as exc:
    sys.exit(f"install.sh: configuration rejected: {exc}")
' "$CONF_DIR/plivoxml-fs.toml"

install -m 0644 "$SRC/scripts/plivoxml-fs.service" "$UNIT_PATH"
systemctl daemon-reload
echo "installed $UNIT_PATH"

if [ "$START" = yes ]; then
  systemctl enable plivoxml-fs.service
  systemctl restart plivoxml-fs.service
  systemctl --no-pager --lines=5 status plivoxml-fs.service || true
else
  echo "start with: systemctl enable --now plivoxml-fs"
fi
