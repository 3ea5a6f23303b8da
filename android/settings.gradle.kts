// The Ardoise Android library as a stand-alone Gradle build (include it in an app with
// includeBuild("path/to/ardoise/android") or publish it with `./gradlew publishToMavenLocal`).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "ardoise"
