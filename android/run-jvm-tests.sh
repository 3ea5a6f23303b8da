#!/usr/bin/env bash
# Builds the native library, regenerates the Kotlin and Swift bindings, compiles the Kotlin
# library with its JUnit tests and runs them on a real JVM through JNA. Last line: "N passed, N failed".
# `--update` first copies the regenerated bindings over the committed ones.
# SyncTest talks to real back offices: bindings/with-sync-servers.sh builds ardoise-server,
# serves it on free loopback ports with temporary databases, creates a shop and enrolment codes
# with its CLI, hands them to the JVM in the environment, and stops the servers afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

# Tools: kotlinc from npm, JNA and JUnit 4 from Debian. Installed only when missing.
kotlin_home=${KOTLIN_HOME:-$(npm root -g)/kotlin-compiler}
if [ ! -x "$kotlin_home/bin/kotlinc-jvm" ]; then
    npm install -g kotlin-compiler@2.4 >&2
fi
if [ ! -f /usr/share/java/jna.jar ] || [ ! -f /usr/share/java/junit4.jar ]; then
    apt-get update -qq >&2 && apt-get install -y -qq libjna-java junit4 >&2
fi
jars=/usr/share/java/jna.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar
klib=$kotlin_home/lib
jars=$jars:$klib/kotlin-test.jar:$klib/kotlin-test-junit.jar:$klib/kotlinx-coroutines-core-jvm.jar

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
libdir=$(bash bindings/generate.sh "$work/gen" "$@")

echo "== compiling the Kotlin library and its tests" >&2
"$kotlin_home/bin/kotlinc-jvm" -nowarn -cp "$jars" -d "$work/classes" android/src/main/kotlin android/src/test/kotlin >&2

echo "== running the JVM tests" >&2
bash bindings/with-sync-servers.sh java -Xms256m -Xmx256m -XX:+AlwaysPreTouch -Djna.library.path="$libdir" -Dardoise.fresh.bindings="$work/gen" -Dardoise.root="$root" \
    -cp "$work/classes:$jars:$klib/kotlin-stdlib.jar" app.ardoise.JvmTestMainKt
