// Package client is herald's Go client.
//
// client.gen.go is generated from openapi/openapi.yaml by oapi-codegen (make
// generate): the models (Job, JobInput, Run, Device, ...) and a raw client
// (RawClient, ClientWithResponses) with a method per operation. The
// hand-written files wrap it in Client, made by New, for what generated code
// does badly:
//
//   - the base URL and the API key (Authorization: Bearer) set once;
//   - every failed call returns a *Problem, the server's problem+json
//     document (status, type, detail, the offending fields), whatever the
//     operation;
//   - lists are iterators over every page (Jobs, Runs, Devices);
//   - creates (CreateJob, TriggerRun) carry an Idempotency-Key, made up
//     unless given (WithIdempotencyKey), so that the retries of a call whose
//     answer was lost, or that met a 503 while the database was away, cannot
//     create twice;
//   - WatchRun follows a run until it ends.
//
// Client.Raw gives the generated client, already authenticated, for what
// Client does not wrap.
package client
