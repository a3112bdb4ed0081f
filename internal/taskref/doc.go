// Package taskref implements the references by which a task of a herald
// DAG uses the results of the tasks it depends on.
//
// # Syntax
//
// A task's request URL, header values and the strings of its JSON body are
// templates. A template is text in which "{{" opens a reference:
//
//	{{ tasks.<id>.status }}         the HTTP status code of task <id>
//	{{ tasks.<id>.body }}           the whole JSON response body of task <id>
//	{{ tasks.<id>.body.<path> }}    a value inside that body
//	{{ tasks.<id>.succeeded }}      a fleet task's count: devices, succeeded, failed or cancelled
//	                                (its body's member of that name)
//	{{ input }}                     the run's whole input (POST /v1/jobs/{id}/runs {"input": ...})
//	{{ input.<path> }}              a value inside the input
//
// <id> is a task id (1 to 64 letters, digits, '_' or '-'). <path> is one or
// more segments separated by dots, each made of letters, digits, '_' and
// '-'. A segment selects the member of that name in an object, or, when
// the value is an array and the segment is a non-negative decimal integer
// without leading zeros, the element at that index (counting from 0). For
// example, this is the "token" member of the first element of the "items"
// array:
//
//	{{ tasks.fetch.body.items.0.token }}
//
// Members whose names contain other characters cannot be referenced.
//
// Whitespace (spaces, tabs, line breaks) is allowed after "{{" and before
// "}}", and nowhere else inside a reference. Everything is case-sensitive.
// There are no functions, filters or defaults; "{{" followed by anything
// other than a reference or the escape below is a syntax error. A "}}"
// outside a reference is ordinary text.
//
// To write a literal "{{", use the escape {{ '{{' }}: a tag holding the
// single-quoted text '{{', with optional whitespace as for references. It
// needs no quoting in JSON. For example, this template is the text
// "{{name}}":
//
//	{{ '{{' }}name}}
//
// # Checking
//
// Parse and ParseJSON check the syntax and list the references, so that a
// job's registration can reject syntax errors (*SyntaxError, with the byte
// offset and an excerpt) and references to tasks that are not ancestors.
// In a JSON body only string values are templates; object keys are not.
//
// # Rendering
//
// At run time the referenced values come from the Results of finished
// upstream tasks. A status is inserted as its decimal number. A body value
// is inserted, in text, as the content of a JSON string (without quotes or
// escapes) and as compact JSON for any other value (numbers as written in
// the response, objects and arrays compacted, true, false, null).
//
//   - Render is for header values: values are inserted as text, and a
//     value holding a control character other than tab (in particular CR
//     or LF) is an error, so a response cannot inject headers.
//   - RenderURL is for URLs: each value is percent-escaped so that it
//     cannot change the structure of the URL. Values before the template's
//     first literal '?' are escaped with url.PathEscape (which also
//     escapes '/', '?' and '#'); values after it, in the query, with
//     url.QueryEscape; values after a literal '#', in the fragment, with
//     url.PathEscape.
//   - RenderJSON is for JSON bodies: a string value that is exactly one
//     reference, with nothing around the braces, is replaced by the
//     referenced value with its JSON type kept ("{{ tasks.a.status }}"
//     becomes 200, "{{ tasks.a.body.items }}" an array). References in any
//     other string are inserted as text and the result stays a string.
//
// The run's input is results[InputKey]; a reference to it in a run without
// input fails naming the reference ("the run has no input").
//
// A reference that cannot be resolved (the task has no result, its
// response was not JSON, a member or index is missing, or the path goes
// through a value that is not an object or array) is a *RefError naming
// the reference, such as
//
//	{{ tasks.fetch.body.token }}: response of task fetch has no key "token"
package taskref
