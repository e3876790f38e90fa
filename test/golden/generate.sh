#!/usr/bin/env bash
# Regenerates test/golden/expected/ from test/golden/cases/ with Kafka Streams itself
# (TopologyTestDriver, the version in generator/pom.xml). Needs Java 17+ and Maven.
# The files it writes are checked in: the unit tests read them without Java.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pom="$here/generator/pom.xml"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
mvn -q -B -f "$pom" package
java -cp "$here/generator/target/streams-golden.jar:$here/generator/target/lib/*" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=error -Dgolden.kafka.version="$version" \
  streamrun.golden.GoldenGenerator "$here/cases" "$here/expected"
