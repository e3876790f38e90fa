#!/usr/bin/env bash
# Runs cases through Kafka Streams itself (TopologyTestDriver, the version in generator/pom.xml)
# and writes what it emitted: by default test/golden/cases/ into test/golden/expected/ (checked
# in: the unit tests read them without Java); the conformance suite passes its own directories.
# Needs Java 17+ and Maven. The built generator is cached by a hash of its sources, so only the
# first run after a change pays for Maven.
#   usage: generate.sh [cases-dir expected-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cases=${1:-$here/cases}
expected=${2:-$here/expected}
generator="$here/generator"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$generator/pom.xml")
hash=$(cd "$generator" && find pom.xml src -type f | sort | xargs sha256sum | sha256sum | cut -c1-16)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/streamrun/golden-generator-$hash"
if [ ! -f "$cache/streams-golden.jar" ]; then
  mvn -q -B -f "$generator/pom.xml" package
  mkdir -p "$cache.tmp"
  cp -r "$generator/target/streams-golden.jar" "$generator/target/lib" "$cache.tmp/"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
java -cp "$cache/streams-golden.jar:$cache/lib/*" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=error -Dgolden.kafka.version="$version" \
  streamrun.golden.GoldenGenerator "$cases" "$expected"
