package main

// version is the release this binary was built as, set at link time by the
// container image's build (deploy/Dockerfile: -ldflags "-X main.version=...").
// Empty in other builds, which report their VCS revision instead (see
// revision).
var version string
