#!/usr/bin/env bash
# Regenerates test/partitions/expected.json with Kafka Streams' own WindowedStreamPartitioner
# (the version in pom.xml): the partition of a window of each key, for several partition
# counts. Needs Java 17+ and Maven; the file is checked in, so the unit tests need neither.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
classpath=$(mktemp)
trap 'rm -f "$classpath"' EXIT
mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$classpath"
java -cp "$(cat "$classpath")" "$here/WindowedPartitions.java" "$here/expected.json"
