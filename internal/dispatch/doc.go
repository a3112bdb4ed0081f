// Package dispatch sends webhook deliveries: one HTTP request per attempt,
// classified as a success, a failure worth retrying or a permanent failure.
//
// The Client refuses to connect to loopback, private, link-local, multicast,
// cloud-metadata and other reserved addresses (SSRF protection). The check is
// made at dial time, on the address DNS resolved to, so that a hostname that
// resolves to an internal address is refused too; operators allow specific
// networks with Config.AllowedNetworks (HERALD_ALLOWED_TARGET_NETWORKS).
// Redirects are never followed and no proxy from the environment is used,
// as either would let a request escape that check.
package dispatch
