// Package e2e holds herald's end-to-end tests in one process: the REST API,
// River, the ticker and the delivery workers against a real PostgreSQL, and
// real HTTP receivers standing in for devices (internal/heraldtest). The
// packages they exercise keep their own unit tests; these tests only check
// what a user sees through the API and at the receiver.
package e2e
