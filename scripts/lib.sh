# Shared by the scripts: where things live and how to log. Sourced, not run.
WW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
WW_CACHE=${WW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wild-workouts}
WW_KAFKA_VERSION=$(awk '/<artifactId>kafka_2.13</{f=1;next} f&&/<version>/{gsub(/.*<version>|<\/version>.*/,"");print;exit}' \
  "$WW_ROOT/scripts/kafka/pom.xml")
ww_log() { printf '[ww] %s\n' "$*" >&2; }
ww_kafka_home() { printf '%s/kafka-%s' "$WW_CACHE" "$WW_KAFKA_VERSION"; }
