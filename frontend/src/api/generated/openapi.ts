// Generated from api/openapi.yaml by openapi-typescript 7.13.0: do not edit.
// Change the contract in api/ and run `npm run gen:api` (scripts/gen-api.mjs);
// src/api/generated/generated.spec.ts fails while this file is out of date.

export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness */
        get: operations["ready"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Prometheus metrics */
        get: operations["metrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/whoami": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Who the credentials make the caller
         * @description The tenant, role and key id of the credentials (to check a key
         *     without using anything else). `auth_required` is false on a gateway
         *     that runs without authentication (`-auth=none`), which answers
         *     without credentials.
         */
        get: operations["whoami"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/limits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The caller's limits, known before an upload
         * @description The gateway's bounds on a job (`GATEWAY_MAX_ITEMS`), a streamed and
         *     a JSON job body (`GATEWAY_MAX_BODY_BYTES`,
         *     `GATEWAY_MAX_JSON_BODY_BYTES`), one resumable upload
         *     (`GATEWAY_MAX_UPLOAD_SIZE`, at most `UPLOAD_MAX_BYTES`) and a synchronous
         *     prediction (`GATEWAY_MAX_SYNC_ITEMS`), and the quotas of the
         *     caller's tenant: its key's (`jobs=`, `items=` in the keys file, else
         *     `GATEWAY_MAX_TENANT_JOBS`, `GATEWAY_MAX_TENANT_ITEMS`; none without
         *     authentication) and its uploads' (`GATEWAY_MAX_TENANT_UPLOADS`,
         *     `GATEWAY_MAX_TENANT_UPLOAD_BYTES`). A quota of 0 is none.
         */
        get: operations["getLimits"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every model version, with its state, and the aliases
         * @description Versions from the workers' models directories and versions pushed to
         *     the registry (`source`). A pushed version is `loading` until a worker
         *     has loaded and warmed it up (requests naming it get 503 `not_ready`),
         *     then `ready` while a worker serves it (`unserved` while none does:
         *     its work waits in its queue), and `retiring` once retired, until it
         *     has drained and leaves the catalogue.
         */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        /** The versions of one model */
        get: operations["getModel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{name}/predict": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Synchronous prediction
         * @description Runs at most the gateway's max sync items (`GATEWAY_MAX_SYNC_ITEMS`)
         *     through the priority queue and answers with their results.
         */
        post: operations["predict"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{name}/versions": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        /**
         * A model's versions in the registry, with their state
         * @description Every version of the model: pushed ones (with their upload's format,
         *     size, digest, runtimes, who pushed them, the workers that could not
         *     load them) and those of the workers' models directories; pushes in
         *     progress are `checking`.
         */
        get: operations["listModelVersions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{name}/versions/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Push a model version to the registry (operator)
         * @description The body is the version: a tar.gz, tar or zip archive of its
         *     directory (a SavedModel, `saved_model.pb` and `variables/`, and/or
         *     `model.tflite`; `metadata.json` optional), or a `.tflite` file; or
         *     `multipart/form-data` with that as part `model` and `metadata.json`
         *     as part `metadata`. The format is told from the bytes. It is streamed
         *     into the registry (at most `REGISTRY_MAX_MODEL_BYTES`, as uploaded
         *     and unpacked), then a worker checks it: unpacks it (refusing paths
         *     that leave its directory, links and devices), loads it, matches its
         *     signature to the metadata given (what is missing is read from the
         *     model), and warms it up. Only then is it registered (201, state
         *     `loading`); workers then load it without a restart, and it is routed
         *     to once one has warmed it up. A refused push leaves nothing behind:
         *     400 `invalid_input` naming the problem (a corrupt archive, a path
         *     traversal, a SavedModel without `serving_default`, a `.tflite` with
         *     unsupported ops, metadata that does not match), 413 `body_too_large`,
         *     409 `conflict` (the version exists, is being pushed, is served from a
         *     models directory, or has an alias's name), 503 `unavailable` (no
         *     worker can check it: a SavedModel needs a worker with TensorFlow),
         *     504 `timeout` (`REGISTRY_CHECK_TIMEOUT`), 507 `insufficient_storage`
         *     (`REGISTRY_MAX_BYTES`).
         */
        put: operations["pushModelVersion"];
        post?: never;
        /**
         * Retire a pushed model version (operator)
         * @description From now on no new work is routed to the version (requests naming it
         *     get 404 `unknown_model`); what was sent to it (its jobs, which each
         *     pinned it when submitted, and queued predictions) finishes; then it
         *     is deleted from the registry, its workers unload it and it leaves
         *     the catalogue. 409 while an alias routes to it, and for a version of
         *     a models directory.
         */
        delete: operations["retireModelVersion"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{name}/aliases/{alias}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                alias: string;
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Point an alias at versions with traffic weights (operator)
         * @description A request (prediction or job) naming the alias as its version goes
         *     to one of its versions, drawn by weight among those that take work
         *     (a version not loaded yet is skipped; none: 503 `not_ready`). The
         *     weights are percentages summing to 100; each version must exist.
         */
        put: operations["setModelAlias"];
        post?: never;
        /** Delete an alias (operator) */
        delete: operations["deleteModelAlias"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The tenant's jobs, most recent first, a page at a time
         * @description Pages follow `next_cursor` until it is absent. With a filter (`model`,
         *     `state`) a page reads at most `GATEWAY_MAX_JOBS_SCANNED` (1000) job
         *     records: it may end early, even empty, with a `next_cursor` to go on
         *     from.
         */
        get: operations["listJobs"];
        put?: never;
        /**
         * Queue a batch job
         * @description The body is either JSON (`model`, optional `version`, `inputs`), or,
         *     with `model` and `version` in the query: NDJSON (one `ItemInput` per
         *     line), CSV (one row per item, with an optional header of feature
         *     names), raw little-endian float32 values (`application/octet-stream`,
         *     `item_size` per item, back to back) or a NumPy `.npy` array
         *     (`application/x-npy`: `|u1` (uint8), `<f4` or `<f8`, C order, shape
         *     `(n, ...)` whose item dimensions hold `item_size` values). The binary
         *     forms skip JSON and base64: use them for large tensors, and uint8 for
         *     images already decoded to pixels (a quarter of the bytes of float32). A repeated `Idempotency-Key` returns the same job with 200 and
         *     `Idempotent-Replayed: true`.
         *
         *     A dataset: with `upload` (the id of a finished upload of `/v1/uploads`)
         *     and no body, the job reads the upload in the background (its first
         *     chunks run while the rest is read: `ingesting` and `read` in its
         *     status), in the `format` given or told by the upload's `filetype` or
         *     `filename` metadata. `Idempotency-Key` is not taken here.
         */
        post: operations["submitJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        /** A job's status, its request counts and links */
        get: operations["getJob"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/results": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        /**
         * A job's results
         * @description As JSON: a page of finished items in item index order. With
         *     `format=ndjson` (or `Accept: application/x-ndjson`): an NDJSON stream of
         *     every `ItemResult` in index order that waits for pending items until
         *     the job ends. A stream counts against the gateway's
         *     `GATEWAY_MAX_SUBSCRIPTIONS` (beyond it: 503 `busy` with `Retry-After`;
         *     the gateway stays ready) and the tenant's `follows=` (429
         *     `quota_exceeded`). A client that reads nothing for
         *     `GATEWAY_STREAM_WRITE_TIMEOUT` has its stream ended.
         */
        get: operations["getResults"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a job
         * @description Remaining items fail with `job cancelled`.
         */
        post: operations["cancelJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        /**
         * A job's webhook and its delivery log
         * @description The URL the job's end is posted to and, once the job has ended, its
         *     event's delivery: `pending` (queued), `retrying` (with
         *     `next_attempt_at`), `delivered` or `failed` (given up and
         *     dead-lettered, with `error`); every attempt's time, HTTP status (none
         *     when there was no answer), error and duration, the latest
         *     `WEBHOOK_MAX_LOGGED_ATTEMPTS` (20) of them. Kept as long as the job's
         *     record.
         */
        get: operations["getJobWebhooks"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/output": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        /**
         * A finished job's output file (every item)
         * @description One line (NDJSON) or row (CSV) per item, in index order, for a job whose
         *     state is final (`completed`, `cancelled`, `failed`, `deadline_exceeded`).
         *     NDJSON lines are the stored `ItemResult`s as they are. CSV (RFC 4180
         *     quoting, LF line ends, UTF-8) has a header row and the columns
         *     `index, line, id, status, label, class, score, error`, where `status`
         *     is `ok`, `failed` or `skipped`, then one `p_<label>` column per class
         *     for models whose items carry probabilities (at most 32 classes;
         *     `p_<class>` when the labels are missing or repeated; empty cells for
         *     items without them).
         *
         *     Downloads resume: `Content-Length` is exact, `Accept-Ranges: bytes`,
         *     and a single `Range` gets 206 with `Content-Range` (a range past the end
         *     or malformed: 416 `range_not_satisfiable` with `Content-Range: bytes *\/SIZE`;
         *     several ranges, or another unit, are ignored: 200 with the whole file, as
         *     RFC 9110 lets a server). `If-Range` with the file's `ETag` (or its
         *     `Last-Modified` date) applies the range only to the same bytes; a stale
         *     one gets 200 with the whole file. `If-None-Match` / `If-Modified-Since`
         *     get 304. The `ETag` is strong and changes only when the file's bytes
         *     do (a chunk of a failed job counted after it failed).
         *
         *     The first request for a file reads the job's results once to index it
         *     (the length of each chunk's part of the file, kept beside the results
         *     until they expire); later ones read only the chunks their range covers.
         *     A running job: 409 `conflict` with `Retry-After` ("not finished yet: N
         *     of M items"); an expired one: 410 `expired`; another tenant's: 404
         *     `unknown_job`. A download counts against the gateway's
         *     `GATEWAY_MAX_DOWNLOADS` (503 `busy` with `Retry-After` beyond it).
         */
        get: operations["getOutputFile"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /** The output file's headers (size, ETag) without its bytes */
        head: operations["headOutputFile"];
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/errors": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        /**
         * A finished job's errors file (the failed items only)
         * @description The items that failed (not those skipped: see `status` in the output
         *     file), in index order, with the input line and the reason: NDJSON lines
         *     of `ErrorsFileLine`, or CSV with the header `index,line,id,reason`. An
         *     invalid row accepted under `max_invalid` is here with its line. The
         *     same headers, ranges, validators and answers as the output file.
         */
        get: operations["getErrorsFile"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        /** The errors file's headers without its bytes */
        head: operations["headErrorsFile"];
        patch?: never;
        trace?: never;
    };
    "/v1/deadletters": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Dead letters, oldest first, a page at a time
         * @description Chunks given up after `WORKER_MAX_DELIVER` deliveries (every worker
         *     that took them crashed, timed out or failed on them), each kept with
         *     its payload (`GET /v1/deadletters/{id}`). A user sees its tenant's
         *     letters; an operator every tenant's, and with `kind=sync` the
         *     letters of synchronous requests (which mix tenants' requests; kept
         *     `RESULT_TTL`, never redriven). Webhook events given up share the
         *     dead-letter stream but are not letters: a job's are in
         *     `GET /v1/jobs/{id}/webhooks`. Pages follow `next_cursor` until it is
         *     absent.
         */
        get: operations["listDeadLetters"];
        put?: never;
        post?: never;
        /**
         * Purge a job's dead letters
         * @description Deletes every letter of the job the caller may see, with their
         *     payloads. Letters being redriven meanwhile stay (they go with their
         *     redrive). A job's letters also go with its record (`RECORD_TTL` after
         *     its results expired).
         */
        delete: operations["purgeJobDeadLetters"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/deadletters/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A dead letter's `id`. */
                id: components["parameters"]["LetterId"];
            };
            cookie?: never;
        };
        /**
         * A dead letter and a page of its payload
         * @description The letter and its payload's items from `offset` on: `limit` of
         *     them, or fewer to keep the page under 8 MiB of item data
         *     (`next_offset` says where the next page starts). Another tenant's
         *     letter is 404, as an unknown one. A payload no longer stored is 410
         *     `expired`.
         */
        get: operations["getDeadLetter"];
        put?: never;
        post?: never;
        /**
         * Purge one dead letter
         * @description Deletes the letter and its payload. One being redriven or purged by
         *     another request is 409 `conflict`; one gone already (or another
         *     tenant's) 404.
         */
        delete: operations["purgeDeadLetter"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/deadletters/{id}/redrive": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A dead letter's `id`. */
                id: components["parameters"]["LetterId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Run a dead letter's chunk again in its job
         * @description The chunk's items land in their job exactly once: the outcome
         *     counted for them (the run that died) is taken back, the chunk runs
         *     again from the letter's payload, and the job's counts, results and
         *     output file follow its new outcome. A job that had finished is open
         *     (`running`) again until the chunk is counted; its results expire
         *     `RESULT_TTL` after its new end, its items count in its tenant's
         *     quotas meanwhile. The letter goes. A second redrive of it is 409
         *     `conflict`, so is a redrive racing another redrive or a purge of it,
         *     a redrive of a letter whose chunk ran again since (stale), of a
         *     synchronous request's letter, or into a job that was cancelled,
         *     failed or passed its deadline; a job whose results expired is 410
         *     `expired`; an unknown letter, or another tenant's, 404.
         */
        post: operations["redriveDeadLetter"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create an upload (tus creation, creation-with-upload)
         * @description Creates an upload of `Upload-Length` bytes; with
         *     `Content-Type: application/offset+octet-stream` the body holds its first
         *     bytes. Refused with 429 `quota_exceeded` (and `Retry-After`, the time to
         *     the tenant's first upload expiry) past the tenant's unfinished uploads
         *     (`-max-tenant-uploads`) or the declared bytes of its stored uploads
         *     (`-max-tenant-upload-bytes`). An unfinished upload expires
         *     `UPLOAD_TTL` (24 h) after its creation, a finished one `UPLOAD_RETENTION`
         *     (24 h) after its last byte, and is then deleted with its bytes.
         */
        post: operations["createUpload"];
        delete?: never;
        /**
         * tus discovery
         * @description Resumable uploads speak tus 1.0.0 (https://tus.io/protocols/resumable-upload):
         *     the core protocol and the creation, creation-with-upload, termination,
         *     checksum and expiration extensions. Any tus client works unchanged
         *     (tus-js-client, tuspy, tusd's Go client...); send the API key as for
         *     every other call. An upload belongs to the caller's tenant; another
         *     tenant's upload answers exactly like an unknown one (404). Its bytes are
         *     kept in NATS JetStream, so an upload started through one gateway resumes
         *     through any other.
         */
        options: operations["uploadsDiscovery"];
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The last segment of the upload's `Location`. */
                id: string;
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete the upload and its bytes (tus termination) */
        delete: operations["deleteUpload"];
        options?: never;
        /**
         * The upload's offset (tus core)
         * @description 404 for an unknown upload or another tenant's, 410 for an expired one not yet deleted.
         */
        head: operations["uploadOffset"];
        /**
         * Append bytes at the upload's offset (tus core, checksum)
         * @description The body goes at `Upload-Offset`, which must be the upload's offset (409
         *     `conflict` otherwise: HEAD gives it). A body cut short (a dropped
         *     connection) keeps what arrived: HEAD and resume. With `Upload-Checksum`
         *     nothing of the body is kept unless it arrived whole and matches (460
         *     `checksum_mismatch` otherwise). Bytes past `Upload-Length` are refused
         *     with 413 and none of them kept. Two requests writing one upload at once
         *     (through any gateways) cannot mix their bytes: the later one wins, the
         *     other gets 409. A gateway that stops mid-body answers 503 `unavailable`
         *     after storing what arrived.
         */
        patch: operations["uploadBytes"];
        trace?: never;
    };
    "/v1/cluster": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Workers and queue state */
        get: operations["getCluster"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/ws": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * WebSocket (see websocket.md)
         * @description Upgrades to a WebSocket carrying JSON text frames: job submission,
         *     subscriptions with resumable per-job sequence numbers, live results and
         *     progress, and synchronous predictions. The protocol is in `websocket.md`.
         */
        get: operations["websocket"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Open Inference Protocol server metadata
         * @description The Open Inference Protocol v2 (KServe's and Triton's REST protocol,
         *     what `tritonclient[http]` and KServe's `InferenceRESTClient` speak).
         *     Every `/v2` error is the protocol's `OIPError`, `{"error": "<message>"}`,
         *     with the status of the `/v1` code it stands for.
         */
        get: operations["oipServerMetadata"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/health/live": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Open Inference Protocol liveness */
        get: operations["oipLive"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/health/ready": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Open Inference Protocol readiness
         * @description Ready as `/ready` is (connected to NATS, catalogue loaded).
         */
        get: operations["oipReady"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        /** Open Inference Protocol model metadata (the highest version) */
        get: operations["oipModelMetadata"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{name}/versions/{version}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        /** Open Inference Protocol model metadata (one version) */
        get: operations["oipModelVersionMetadata"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{name}/ready": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        /** Open Inference Protocol model readiness (the highest version) */
        get: operations["oipModelReady"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{name}/versions/{version}/ready": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        /** Open Inference Protocol model readiness (one version) */
        get: operations["oipModelVersionReady"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{name}/infer": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Open Inference Protocol inference (the highest version)
         * @description A synchronous prediction, as `POST /v1/models/{name}/predict` (same
         *     queue, limits and key rate). The one input is the model's (`pixels`
         *     for digits), FP32 of shape `[n, ...]` as the model metadata gives it
         *     or flat `[n, item_size]`, n at most `GATEWAY_MAX_SYNC_ITEMS` (64);
         *     FP16, BF16, FP64 and integer datatypes are converted to FP32 where
         *     the value is exact (integers within ±2^24), BOOL and BYTES refused.
         *     Outputs (all when none are asked): the model's probabilities (FP32
         *     `[n, classes]`), `label` (BYTES `[n]`) and `class` (INT64 `[n]`) of
         *     the top class; `parameters.classification: k` on the probabilities
         *     answers the top k as `"score:index:label"` strings (BYTES `[n, k]`).
         *     Request parameters: `binary_data_output`, `timeout` (microseconds,
         *     within `GATEWAY_MIN_SYNC_TIMEOUT`..`GATEWAY_SYNC_TIMEOUT`),
         *     `priority` (accepted; every synchronous request goes ahead of batch
         *     work); sequences and shared memory are refused. A body may be
         *     `Content-Encoding: gzip` or `deflate`.
         */
        post: operations["oipInfer"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v2/models/{name}/versions/{version}/infer": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Open Inference Protocol inference (one version)
         * @description As `POST /v2/models/{name}/infer`, with the version named.
         */
        post: operations["oipInferVersion"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    jobEnded: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A job ended (sent to the job's webhook URL)
         * @description When a job with a webhook (`webhook` of POST /v1/jobs, or its tenant's
         *     default) ends, the gateway POSTs this to the URL, signed per Standard
         *     Webhooks with the tenant's secret (`whsec_…`, from the operator):
         *     `webhook-signature` is `v1,` and the base64 HMAC-SHA256 of
         *     `{webhook-id}.{webhook-timestamp}.{body}` (one per secret while a new
         *     one is rolled out, separated by spaces). Verify it, and that the
         *     timestamp is recent, before trusting the body; drop a `webhook-id`
         *     already seen (delivery is at least once). Any 2xx is success; anything
         *     else (or no answer within `WEBHOOK_TIMEOUT`) is retried with
         *     exponential backoff until `WEBHOOK_RETRY_WINDOW` after the job ended,
         *     then given up (dead-lettered); 410 gives up at once. Redirects are
         *     followed only as 307/308. `GET /v1/jobs/{id}/webhooks` shows every
         *     attempt.
         */
        post: operations["jobEnded"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
/** @description A number, or an array of NestedNumbers. */
export type NestedNumbers = number | NestedNumbers[];
export interface components {
    schemas: {
        /** @description What the gateway last read of the shared stores (not a reason to be unready). */
        ReadyDetail: {
            results_store?: {
                /** @description Bytes of results stored. */
                bytes: number;
                /** @description RESULT_MAX_BYTES (-1: unbounded). */
                max_bytes: number;
                /** @description bytes / max_bytes (0 when unbounded). */
                fill: number;
            };
        };
        Whoami: {
            tenant: string;
            /** @enum {string} */
            role: "user" | "operator";
            /** @description Names the key in the audit log (a JWT: `jwt:` and its subject). */
            key_id: string;
            auth_required: boolean;
        };
        /** @description A number, or an array of NestedNumbers. */
        NestedNumbers: NestedNumbers;
        /**
         * @description One input item. Values must be finite and, where the model gives them,
         *     within `input.min`..`input.max`.
         */
        ItemInput: components["schemas"]["NestedNumbers"][] | {
            b64: string;
        } | {
            image: string;
        } | {
            features: {
                [key: string]: number;
            };
        };
        TopEntry: {
            label: string;
            class: number;
            score: number;
        };
        /**
         * @example {
         *       "index": 0,
         *       "label": "7",
         *       "class": 7,
         *       "score": 0.98,
         *       "top": [
         *         {
         *           "label": "7",
         *           "class": 7,
         *           "score": 0.98
         *         }
         *       ],
         *       "probabilities": [
         *         0,
         *         0,
         *         0,
         *         0,
         *         0,
         *         0,
         *         0,
         *         0.98,
         *         0.01,
         *         0.01
         *       ]
         *     }
         */
        ItemResult: {
            index: number;
            line?: components["schemas"]["InputLine"];
            id?: components["schemas"]["InputId"];
            label: string;
            class: number;
            score: number;
            /** @description The model's `top_k` best classes. */
            top?: components["schemas"]["TopEntry"][];
            /** @description Every class's probability; only for models with at most 32 classes. */
            probabilities?: number[];
        } | {
            index: number;
            line?: components["schemas"]["InputLine"];
            id?: components["schemas"]["InputId"];
            error: string;
            /** @description The item was not run (its job was cancelled, failed or passed its deadline first); `error` says why. Skipped items are not failures. */
            skipped?: boolean;
        };
        /**
         * @description queued (nothing run yet; `queue` says where it stands), running, then completed (every item has
         *     an outcome; `failed` may be above 0), cancelled (items not run were skipped), failed (the job ended
         *     early as a whole: `error` says why), expired (finished, and its results were removed after their
         *     retention: status and counts remain, results answer 410) or deadline_exceeded (items not started
         *     by the job's deadline were skipped).
         * @enum {string}
         */
        JobState: "queued" | "running" | "completed" | "cancelled" | "failed" | "expired" | "deadline_exceeded";
        /** @description The item's line in an NDJSON or CSV input (1-based, counting a CSV header line). */
        InputLine: number;
        /** @description The item's value of the input's id column (a CSV input sent with `id_column`). */
        InputId: string;
        /**
         * @description The request counts: `total` items, of which `done` succeeded (completed), `failed` failed and
         *     `skipped` were not run (cancelled, failed job, deadline passed). The job is finished when
         *     `done + failed + skipped == total`, or when it failed as a whole; then its output and errors
         *     files can be downloaded (`links.output`, `links.errors` of GET /v1/jobs/{id}).
         */
        JobStatus: {
            id: string;
            /** @description The input's name, as submitted (`name`, or the file name); absent when none was given. */
            name?: string;
            model: string;
            version: string;
            state: components["schemas"]["JobState"];
            total: number;
            /** @description Successful items. */
            done: number;
            /** @description Failed items. */
            failed: number;
            /** @description Items not run: the job was cancelled, failed first or passed its deadline (not counted in `failed`). */
            skipped: number;
            chunks: number;
            /** @description Why a failed job failed. */
            error?: string;
            /**
             * @description What the job counts against its tenant's items quota until it
             *     finishes: one per item, and for an image one per model input's worth
             *     of pixels (a 64×64 image for an 8×8 model costs 64).
             */
            cost?: number;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            started_at?: string;
            /** Format: date-time */
            updated_at?: string;
            /** Format: date-time */
            finished_at?: string;
            /**
             * Format: date-time
             * @description When the results of a finished job expire (RESULT_TTL after it finished).
             */
            expires_at?: string;
            elapsed_ms: number;
            /** @description Items run per second, from the start of its first chunk on a worker to its last counted chunk (queueing not counted). */
            items_per_sec: number;
            eta_ms?: number;
            /**
             * @description The order a tenant's jobs are served in, within its fair share.
             * @enum {string}
             */
            priority: "high" | "normal" | "low";
            /**
             * Format: date-time
             * @description Items not started by then are skipped (deadline_exceeded).
             */
            deadline?: string;
            queue?: components["schemas"]["QueuePosition"];
            /** @description The URL the job's end is posted to (`jobEnded`), when it has one. */
            webhook?: string;
            /** @description A dataset job whose upload is still being read: `total` is then an upper bound (the upload's lines) and `read` the items read so far. */
            ingesting?: boolean;
            /** @description Items read from the upload so far, while `ingesting`. */
            read?: number;
        };
        /** @description Where a queued job stands (absent once it runs, or when the scheduler's last snapshot is older than a few seconds). */
        QueuePosition: {
            /** @description Items served before its first: those in flight, and what fair share serves first (one round of the other tenants, the tenant's jobs of a better priority). */
            items_ahead: number;
            /**
             * Format: date-time
             * @description At the model's current rate.
             */
            estimated_start?: string;
        };
        TensorSpec: {
            key: string;
            /** @constant */
            dtype: "float32";
            /** @description Batch dimension first, as -1. */
            shape: number[];
            min?: number;
            max?: number;
        };
        /**
         * @description Decode, convert to `channels`, resize to `width`×`height` (area
         *     average), optionally invert (dark ink on a light background), then
         *     scale 0..255 linearly to [`range_min`, `range_max`].
         */
        ImagePreprocessing: {
            width: number;
            height: number;
            /** @enum {integer} */
            channels: 1 | 3;
            invert?: boolean;
            range_min: number;
            range_max: number;
        };
        /** @description The model's `metadata.json` plus `item_size`, `workers` and `ready`. */
        ModelInfo: {
            name: string;
            version: string;
            description: string;
            /** @enum {string} */
            kind: "image" | "tabular";
            benchmark_only?: boolean;
            /** @description The SavedModel signature served (empty for a LiteRT-only model). */
            signature?: string;
            input: components["schemas"]["TensorSpec"];
            output: components["schemas"]["TensorSpec"];
            labels: string[];
            /** @description Feature names of tabular models, in input order. */
            features?: string[];
            /**
             * @description One per input value, from the training data: the least and greatest
             *     value seen and a typical one (the median). Outside the range the
             *     model's outputs are unreliable.
             */
            feature_ranges?: {
                min: number;
                max: number;
                typical: number;
            }[];
            /** @description Real inputs from the training data to try, with their true labels (at most 16). */
            examples?: {
                label: string;
                values: number[];
            }[];
            preprocessing: {
                note?: string;
                image?: components["schemas"]["ImagePreprocessing"];
            };
            top_k?: number;
            chunk_size?: number;
            /** @description Largest batch worth running for this model (workers batch at most this many items). */
            max_batch?: number;
            metrics?: {
                [key: string]: number;
            };
            tensorflow_version?: string;
            /** @description Values per item (product of the input shape without the batch dimension). */
            item_size: number;
            /** @description Number of workers serving this model version now. */
            workers: number;
            ready: boolean;
            source?: components["schemas"]["ModelSource"];
            state?: components["schemas"]["ModelState"];
        };
        /**
         * @description Where the version comes from - a worker's models directory, or the registry (pushed).
         * @enum {string}
         */
        ModelSource: "disk" | "registry";
        /**
         * @description `checking`: being pushed (registry listing only); `loading`: registered,
         *     no worker has loaded and warmed it up yet (not routed to); `ready`: a
         *     worker serves it; `unserved`: workers served it, none does now (its work
         *     waits in its queue); `retiring`: retired, finishing what was sent to it.
         * @enum {string}
         */
        ModelState: "checking" | "loading" | "ready" | "unserved" | "retiring";
        RegistryVersion: {
            name: string;
            version: string;
            source: components["schemas"]["ModelSource"];
            state: components["schemas"]["ModelState"];
            workers: number;
            /**
             * @description The upload's format.
             * @enum {string}
             */
            format?: "tar" | "tar.gz" | "zip" | "tflite";
            /** @description The upload's bytes. */
            size?: number;
            /** @description The upload's SHA-256, as SHA-256=<base64url>. */
            digest?: string;
            /** @description Runtimes whose files the version holds (tensorflow for a SavedModel, litert for model.tflite). */
            runtimes?: ("tensorflow" | "litert")[];
            /** Format: date-time */
            pushed_at?: string;
            /** @description Key id of the operator who pushed it. */
            pushed_by?: string;
            /** Format: date-time */
            retiring_at?: string;
            /** @description Live workers that could not load it (by worker id), with the reason. */
            load_errors?: {
                [key: string]: string;
            };
            /** @description The model's aliases that route to it. */
            aliases?: string[];
            /** @description The version's metadata.json, as its check completed it from the model (the fields of ModelInfo but item_size, workers, ready, source and state); absent while it is checked. */
            metadata?: Record<string, never>;
        };
        RegistryVersions: {
            name: string;
            versions: components["schemas"]["RegistryVersion"][];
        };
        AliasRequest: {
            /** @description Version to its share of the requests in percent; the shares sum to 100. */
            weights: {
                [key: string]: number;
            };
        };
        Alias: {
            model: string;
            name: string;
            weights: {
                [key: string]: number;
            };
            /** Format: date-time */
            updated_at: string;
        };
        WorkerInfo: {
            id: string;
            host: string;
            /**
             * @description Served models as `name:version`.
             * @example [
             *       "digits:1"
             *     ]
             */
            models: string[];
            /** Format: date-time */
            started_at: string;
            /** Format: date-time */
            last_seen: string;
            items_total: number;
            batches_total: number;
            /** @description Items run per second over the worker's last rate interval (`WORKER_RATE_INTERVAL`). */
            items_per_sec: number;
            /**
             * @description The same per model it serves (`name:version`); 0 for a model that ran nothing.
             * @example {
             *       "digits:1": 2950.5,
             *       "breast_cancer:1": 0
             *     }
             */
            items_per_sec_by_model?: {
                [key: string]: number;
            };
            in_flight: number;
            /** @description Registry versions (`name:version`) this worker could not load, with the reason. */
            load_errors?: {
                [key: string]: string;
            };
            /**
             * @description How the worker stores batch results (WORKER_RESULT_FORMAT). A worker older than the compact form names none and stores JSON; while any live worker of a model stores JSON, admission sizes that model's results as JSON.
             * @enum {string}
             */
            result_format?: "compact" | "json";
        };
        QueueStats: {
            pending_chunks?: number;
            pending_items?: number;
            in_flight_chunks?: number;
        };
        ClusterInfo: {
            workers: components["schemas"]["WorkerInfo"][];
            queue: {
                pending_chunks: number;
                pending_items?: number;
                in_flight_chunks: number;
                /** @description Per model (`name:version`). */
                by_model?: {
                    [key: string]: components["schemas"]["QueueStats"];
                };
            };
        };
        JobList: {
            jobs: components["schemas"]["JobStatus"][];
            /** @description The `cursor` of the next page; absent on the last page. */
            next_cursor?: string;
            /** @description The tenant's jobs; absent for a filtered listing (counting those would read every job). */
            total?: number;
        };
        DeadLetter: {
            /** @description Opaque (the letter's sequence in the dead-letter stream). */
            id: string;
            /**
             * @description A job's chunk, or a synchronous request (operators only).
             * @enum {string}
             */
            kind: "batch" | "sync";
            /** @description The job (`sync` for a synchronous request). */
            job: string;
            chunk: number;
            /** @description Index of the chunk's first item in its job. */
            start: number;
            /** @description The chunk's items. */
            count: number;
            model: string;
            version: string;
            /** @description The job's tenant (absent for a synchronous request). */
            tenant?: string;
            /** @description Why the chunk was given up (its items failed with it). */
            reason: string;
            deliveries: number;
            /** Format: date-time */
            dead_at: string;
        };
        DeadLetterList: {
            letters: components["schemas"]["DeadLetter"][];
            /** @description The `cursor` of the next page; absent on the last page. */
            next_cursor?: string;
        };
        /**
         * @description One input of the chunk as the gateway queued it: `tensor`, the item's
         *     little-endian float32 values; `image`, its encoded bytes (PNG, JPEG,
         *     GIF); `invalid`, an input accepted under `max_invalid`, whose data is
         *     the reason it is invalid (text).
         */
        DeadLetterItem: {
            /** @description The item's index in its job. */
            index: number;
            /** @description Its line in the job's input (NDJSON */
            line?: number;
            /** @description Its id column's value (CSV `id_column`). */
            id?: string;
            /** @enum {string} */
            kind: "tensor" | "image" | "invalid";
            data_b64: string;
        };
        /** @description A `DeadLetter` with a page of its payload's items. */
        DeadLetterDetail: {
            id: string;
            /** @enum {string} */
            kind: "batch" | "sync";
            job: string;
            chunk: number;
            start: number;
            count: number;
            model: string;
            version: string;
            tenant?: string;
            reason: string;
            deliveries: number;
            /** Format: date-time */
            dead_at: string;
            items: components["schemas"]["DeadLetterItem"][];
            offset: number;
            /** @description The `offset` of the next page; null on the last page. */
            next_offset: number | null;
        };
        Redriven: {
            /** @description The letter redriven (gone now). */
            letter: string;
            job: components["schemas"]["JobStatus"];
        };
        Purged: {
            /** @description Letters deleted. */
            purged: number;
        };
        /**
         * @description The caller's limits, known before an upload (GET /v1/limits): the
         *     largest job, streamed body, JSON body and upload, the largest
         *     synchronous prediction, and the tenant's quotas.
         */
        Limits: {
            /** @description Items of one job (`GATEWAY_MAX_ITEMS`). */
            max_job_items: number;
            /** @description A streamed job body: NDJSON, CSV, binary (`GATEWAY_MAX_BODY_BYTES`). */
            max_body_bytes: number;
            /** @description A JSON job body, read whole (`GATEWAY_MAX_JSON_BODY_BYTES`). */
            max_json_body_bytes: number;
            /** @description One resumable upload (Tus-Max-Size). */
            max_upload_bytes: number;
            /** @description Inputs of one synchronous prediction (`GATEWAY_MAX_SYNC_ITEMS`). */
            max_sync_items: number;
            tenant: components["schemas"]["TenantLimits"];
        };
        /** @description The quotas of the caller's tenant; 0 is none. */
        TenantLimits: {
            /** @description Unfinished jobs at once. */
            max_jobs: number;
            /** @description Items of unfinished jobs at once (by cost). */
            max_items_in_flight: number;
            /** @description Unfinished uploads at once. */
            max_uploads: number;
            /** @description Declared sizes of all its stored uploads together. */
            max_upload_bytes: number;
            /** @description Its share of the results store: what its finished jobs hold until they expire, and its unfinished ones will store (507 `insufficient_storage` past it). */
            max_result_bytes: number;
        };
        SubmitJobRequest: {
            model: string;
            /** @description Optional: the latest version when omitted. */
            version?: string;
            /** @description A name for the input, listed with the job (see the `name` parameter). */
            name?: string;
            inputs: components["schemas"]["ItemInput"][];
            /** @description A URL the job's end is POSTed to (see the `webhook` parameter); `none` for no webhook, omitted for the tenant's default. */
            webhook?: string;
            /**
             * @description See the `priority` parameter (this wins over it).
             * @enum {string}
             */
            priority?: "high" | "normal" | "low";
            /** @description See the `deadline` parameter (this wins over it). */
            deadline?: string;
        };
        /** @description The body of a webhook request (Standard Webhooks). */
        WebhookPayload: {
            /**
             * @description `job.failed` for a job that failed as a whole or passed its deadline (`data.job.state` says which).
             * @enum {string}
             */
            type: "job.completed" | "job.failed" | "job.cancelled";
            /**
             * Format: date-time
             * @description When the job ended.
             */
            timestamp: string;
            data: {
                job: components["schemas"]["JobStatus"];
                links: components["schemas"]["JobLinks"];
            };
        };
        JobWebhooks: {
            job: string;
            /** @description The job's webhook; empty when it has none. */
            url: string;
            deliveries: components["schemas"]["WebhookDelivery"][];
        };
        WebhookDelivery: {
            /** @description The `webhook-id` of every attempt. */
            id: string;
            /** @enum {string} */
            type: "job.completed" | "job.failed" | "job.cancelled";
            url: string;
            /** @enum {string} */
            state: "pending" | "retrying" | "delivered" | "failed";
            /** @description Attempts made (the log keeps the latest). */
            attempts: number;
            /**
             * Format: date-time
             * @description When the job ended; the retry window runs from it.
             */
            created_at: string;
            /**
             * Format: date-time
             * @description While `retrying`: when the next attempt is due.
             */
            next_attempt_at?: string;
            /**
             * Format: date-time
             * @description When it was delivered or given up.
             */
            finished_at?: string;
            /** @description Why it was given up (`failed`). */
            error?: string;
            log: components["schemas"]["WebhookAttempt"][];
        };
        WebhookAttempt: {
            n: number;
            /** Format: date-time */
            at: string;
            /** @description The HTTP status; absent when there was no answer. */
            status?: number;
            /** @description What went wrong: `HTTP 503`, a timeout, a refused address. */
            error?: string;
            duration_ms: number;
        };
        SubmitJobResponse: {
            job: components["schemas"]["JobStatus"];
            links: components["schemas"]["JobLinks"];
        };
        JobLinks: {
            /** @description URL of GET /v1/jobs/{id} */
            self: string;
            /** @description URL of GET /v1/jobs/{id}/results */
            results: string;
            /** @description URL of GET /v1/jobs/{id}/output, the output file once the job is finished (add ?format=csv for CSV) */
            output: string;
            /** @description URL of GET /v1/jobs/{id}/errors, the failed items once the job is finished */
            errors: string;
            /** @description URL of the WebSocket */
            ws: string;
        };
        /** @description GET /v1/jobs/{id}: the job's status (with its request counts: `total`, `done` = completed, `failed`, `skipped`) and its links. */
        Job: components["schemas"]["JobStatus"] & {
            links: components["schemas"]["JobLinks"];
        };
        /** @description One line of an NDJSON errors file (GET /v1/jobs/{id}/errors). */
        ErrorsFileLine: {
            index: number;
            /** @description The item's line in its NDJSON or CSV input (the CSV header counted); absent for a JSON body. */
            line?: number;
            /** @description The value of its id column, when the input has one. */
            id?: string;
            /** @description Why it failed, e.g. `invalid input (line 7): ...`. */
            reason: string;
        };
        ResultsPage: {
            job: string;
            offset: number;
            limit: number;
            /** @description Finished items only, in index order. */
            items: components["schemas"]["ItemResult"][];
            /** @description Offset of the next page; null when there is none. */
            next_offset: number | null;
            /** @description Every item of the job has a result. */
            complete: boolean;
        };
        ErrorDetail: {
            /** @description Index of the item concerned. */
            item?: number;
            /** @description Line of an NDJSON/CSV body. */
            line?: number;
            message: string;
        };
        /**
         * @example {
         *       "error": {
         *         "code": "invalid_input",
         *         "message": "item 3: expected 64 values, got 63",
         *         "details": [
         *           {
         *             "item": 3,
         *             "message": "expected 64 values",
         *             "got 63": null
         *           }
         *         ]
         *       }
         *     }
         */
        Error: {
            error: {
                /**
                 * @description Stable code, the same on the WebSocket. Each maps to one HTTP status: 400 bad_request,
                 *     invalid_json, invalid_input, invalid_message; 401 unauthorized (with WWW-Authenticate);
                 *     403 forbidden, forbidden_origin; 404 unknown_model, unknown_job, not_found;
                 *     405 method_not_allowed; 408 body_timeout; 409 conflict; 410 expired (a job's results or an
                 *     upload passed their retention); 412 precondition_failed; 413 body_too_large, too_many_items;
                 *     415 unsupported_media_type; 416 range_not_satisfiable (with Content-Range: bytes *\/SIZE);
                 *     429 too_many_subscriptions, rate_limited, quota_exceeded, backlog_full (with Retry-After); 460 checksum_mismatch;
                 *     503 queue_full, busy, unavailable, not_ready, too_many_connections (with Retry-After);
                 *     504 timeout; 507 insufficient_storage (a store cannot hold a job's results or an upload, with
                 *     Retry-After); 500 internal.
                 * @enum {string}
                 */
                code: "invalid_json" | "invalid_input" | "invalid_message" | "bad_request" | "unauthorized" | "forbidden" | "forbidden_origin" | "unknown_model" | "unknown_job" | "not_found" | "method_not_allowed" | "conflict" | "body_too_large" | "body_timeout" | "too_many_items" | "unsupported_media_type" | "too_many_subscriptions" | "rate_limited" | "quota_exceeded" | "timeout" | "queue_full" | "busy" | "unavailable" | "not_ready" | "too_many_connections" | "internal" | "precondition_failed" | "expired" | "checksum_mismatch" | "insufficient_storage" | "range_not_satisfiable" | "backlog_full";
                message: string;
                details?: components["schemas"]["ErrorDetail"][];
            };
        };
        /**
         * @description The body of every /v2 error (Open Inference Protocol).
         * @example {
         *       "error": "input \"pixels\" has shape [1 8 8]: model digits:1 takes [n, 8, 8, 1] (or [n, 64])"
         *     }
         */
        OIPError: {
            error: string;
        };
        OIPServerMetadata: {
            /** @constant */
            name: "batchinfer";
            version: string;
            extensions: ("binary_tensor_data" | "classification")[];
        };
        OIPLive: {
            live: boolean;
        };
        OIPReady: {
            ready: boolean;
        };
        OIPModelReady: {
            name: string;
            ready: boolean;
        };
        OIPTensorMetadata: {
            name: string;
            /** @enum {string} */
            datatype: "FP32" | "INT64" | "BYTES";
            /** @description Dimensions; -1 is the batch. */
            shape: number[];
        };
        OIPModelMetadata: {
            name: string;
            versions: string[];
            /** @constant */
            platform: "batchinfer";
            inputs: components["schemas"]["OIPTensorMetadata"][];
            outputs: components["schemas"]["OIPTensorMetadata"][];
        };
        /** @description Parameters by name; those not named in the operation's description are ignored. */
        OIPParameters: {
            [key: string]: unknown;
        };
        OIPInferRequest: {
            /** @description Echoed in the response. */
            id?: string;
            /** @description When given (KServe's client sends it), the path's model. */
            model_name?: string;
            /** @description When given */
            model_version?: string;
            /** @description `binary_data_output` (boolean), `timeout` (microseconds), `priority` (integer). */
            parameters?: components["schemas"]["OIPParameters"];
            /** @description The model's one input. */
            inputs: components["schemas"]["OIPRequestInput"][];
            /** @description The outputs to answer with, in order; all of them when absent. */
            outputs?: components["schemas"]["OIPRequestOutput"][];
        };
        OIPRequestInput: {
            name: string;
            shape: number[];
            /** @enum {string} */
            datatype: "FP32" | "FP16" | "BF16" | "FP64" | "INT8" | "INT16" | "INT32" | "INT64" | "UINT8" | "UINT16" | "UINT32" | "UINT64";
            /** @description `binary_data_size`: the input's bytes after the JSON part, instead of `data`. */
            parameters?: components["schemas"]["OIPParameters"];
            /** @description The values, row-major, flat or nested to the shape. */
            data?: unknown[];
        };
        OIPRequestOutput: {
            name: string;
            /** @description `binary_data` (boolean), `classification` (the top k classes, on the probabilities output). */
            parameters?: components["schemas"]["OIPParameters"];
        };
        OIPInferResponse: {
            model_name: string;
            model_version: string;
            id?: string;
            outputs: components["schemas"]["OIPResponseOutput"][];
        };
        OIPResponseOutput: {
            name: string;
            /** @enum {string} */
            datatype: "FP32" | "INT64" | "BYTES";
            shape: number[];
            parameters?: {
                /** @description The output's bytes in the binary part. */
                binary_data_size: number;
            };
            /** @description The values, flat and row-major (absent for a binary output). */
            data?: unknown[];
        };
    };
    responses: {
        /** @description No credentials, or credentials that are not valid (`unauthorized`). */
        Unauthorized: {
            headers: {
                "WWW-Authenticate"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description The credentials are valid but their role may not do this (`forbidden`). */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description An error (see the codes in the description above). */
        Error: {
            headers: {
                /** @description Seconds to wait, for 429 and 503 limits. */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description An Open Inference Protocol error, with `Retry-After` for limits. */
        OIPError: {
            headers: {
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OIPError"];
            };
        };
        /** @description The model's versions and the inputs and outputs of the version asked. */
        OIPModelMetadata: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "name": "digits",
                 *       "versions": [
                 *         "1"
                 *       ],
                 *       "platform": "batchinfer",
                 *       "inputs": [
                 *         {
                 *           "name": "pixels",
                 *           "datatype": "FP32",
                 *           "shape": [
                 *             -1,
                 *             8,
                 *             8,
                 *             1
                 *           ]
                 *         }
                 *       ],
                 *       "outputs": [
                 *         {
                 *           "name": "probabilities",
                 *           "datatype": "FP32",
                 *           "shape": [
                 *             -1,
                 *             10
                 *           ]
                 *         },
                 *         {
                 *           "name": "label",
                 *           "datatype": "BYTES",
                 *           "shape": [
                 *             -1
                 *           ]
                 *         },
                 *         {
                 *           "name": "class",
                 *           "datatype": "INT64",
                 *           "shape": [
                 *             -1
                 *           ]
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["OIPModelMetadata"];
            };
        };
        /** @description A live worker serves the model version. */
        OIPModelReady: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OIPModelReady"];
            };
        };
        /**
         * @description The outputs: all JSON (`application/json`), or with binary outputs
         *     (`application/octet-stream`) the JSON part, its length in
         *     `Inference-Header-Content-Length`, then each binary output's
         *     `binary_data_size` bytes in order (little-endian; BYTES elements each
         *     after a uint32 length).
         */
        OIPInfer: {
            headers: {
                /** @description The length of the JSON part, when outputs are binary. */
                "Inference-Header-Content-Length"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["OIPInferResponse"];
                "application/octet-stream": string;
            };
        };
        /** @description The whole file. */
        File: {
            headers: {
                "Content-Length": components["headers"]["ContentLength"];
                ETag: components["headers"]["ETag"];
                "Last-Modified": components["headers"]["LastModified"];
                "Accept-Ranges": components["headers"]["AcceptRanges"];
                "Content-Disposition": components["headers"]["ContentDisposition"];
                [name: string]: unknown;
            };
            content: {
                "application/x-ndjson": string;
                "text/csv": string;
            };
        };
        /** @description One byte range of the file. */
        FilePart: {
            headers: {
                /** @description bytes FIRST-LAST/SIZE */
                "Content-Range"?: string;
                "Content-Length": components["headers"]["ContentLength"];
                ETag: components["headers"]["ETag"];
                "Last-Modified": components["headers"]["LastModified"];
                "Accept-Ranges": components["headers"]["AcceptRanges"];
                "Content-Disposition": components["headers"]["ContentDisposition"];
                [name: string]: unknown;
            };
            content: {
                "application/x-ndjson": string;
                "text/csv": string;
            };
        };
        /** @description The file is the one the validators name (If-None-Match, If-Modified-Since). */
        FileNotModified: {
            headers: {
                ETag?: string;
                "Last-Modified"?: string;
                [name: string]: unknown;
            };
            content?: never;
        };
        /** @description A Range past the end of the file, or malformed (`range_not_satisfiable`). */
        RangeNotSatisfiable: {
            headers: {
                /** @description bytes *\/SIZE */
                "Content-Range"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: {
        ModelName: string;
        /**
         * @description Model version, or an alias of the model (drawn by weight among its
         *     versions); when omitted, the highest version a worker serves. A job
         *     pins the version chosen when it is submitted.
         */
        Version: string;
        JobId: string;
        /** @description A dead letter's `id`. */
        LetterId: string;
        /** @description The tus version; 412 `precondition_failed` without it. */
        TusResumable: "1.0.0";
        /** @description `ALGORITHM BASE64DIGEST` of this request's body (sha1, sha256, sha512 or md5). */
        UploadChecksum: string;
        /** @description Model version. */
        VersionPath: string;
        /**
         * @description Binary tensor data extension: the length of the body's JSON part;
         *     the bytes after it are the inputs' `binary_data_size` bytes, in order.
         */
        InferenceHeaderLength: number;
        FileFormat: "ndjson" | "csv";
        /** @description One byte range: `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX`. */
        Range: string;
        /** @description The `ETag` (or `Last-Modified`) of the part already downloaded; another file's gets the whole file (200). */
        IfRange: string;
        IfNoneMatch: string;
        IfModifiedSince: string;
    };
    requestBodies: {
        OIPInfer: {
            content: {
                /**
                 * @example {
                 *       "id": "42",
                 *       "inputs": [
                 *         {
                 *           "name": "pixels",
                 *           "shape": [
                 *             1,
                 *             64
                 *           ],
                 *           "datatype": "FP32",
                 *           "data": [
                 *             0,
                 *             0,
                 *             5,
                 *             13,
                 *             9,
                 *             1,
                 *             0,
                 *             0,
                 *             0,
                 *             0,
                 *             13,
                 *             15,
                 *             10,
                 *             15,
                 *             5,
                 *             0,
                 *             0,
                 *             3,
                 *             15,
                 *             2,
                 *             0,
                 *             11,
                 *             8,
                 *             0,
                 *             0,
                 *             4,
                 *             12,
                 *             0,
                 *             0,
                 *             8,
                 *             8,
                 *             0,
                 *             0,
                 *             5,
                 *             8,
                 *             0,
                 *             0,
                 *             9,
                 *             8,
                 *             0,
                 *             0,
                 *             4,
                 *             11,
                 *             0,
                 *             1,
                 *             12,
                 *             7,
                 *             0,
                 *             0,
                 *             2,
                 *             14,
                 *             5,
                 *             10,
                 *             12,
                 *             0,
                 *             0,
                 *             0,
                 *             0,
                 *             6,
                 *             13,
                 *             10,
                 *             0,
                 *             0,
                 *             0
                 *           ]
                 *         }
                 *       ],
                 *       "outputs": [
                 *         {
                 *           "name": "label"
                 *         },
                 *         {
                 *           "name": "probabilities",
                 *           "parameters": {
                 *             "classification": 3
                 *           }
                 *         }
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["OIPInferRequest"];
                "application/octet-stream": string;
            };
        };
    };
    headers: {
        /** @description The exact size of the body in bytes. */
        ContentLength: number;
        /** @description Strong validator of the file's bytes (for If-Range and If-None-Match). */
        ETag: string;
        /** @description When the job's outcome last changed. */
        LastModified: string;
        AcceptRanges: "bytes";
        /** @description attachment; filename=<job>.<output|errors>.<ndjson|csv> */
        ContentDisposition: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": {
                        /** @constant */
                        status: "ok";
                    };
                };
            };
        };
    };
    ready: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready to serve. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "ready";
                        detail?: components["schemas"]["ReadyDetail"];
                    };
                };
            };
            /** @description Not ready (e.g. NATS unreachable). */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @constant */
                        status: "not_ready";
                        reason: string;
                        detail?: components["schemas"]["ReadyDetail"];
                    };
                };
            };
        };
    };
    metrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["Error"];
        };
    };
    whoami: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "tenant": "dev",
                     *       "role": "operator",
                     *       "key_id": "dev",
                     *       "auth_required": true
                     *     }
                     */
                    "application/json": components["schemas"]["Whoami"];
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    getLimits: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's limits. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "max_job_items": 100000000,
                     *       "max_body_bytes": 4294967296,
                     *       "max_json_body_bytes": 67108864,
                     *       "max_upload_bytes": 10737418240,
                     *       "max_sync_items": 64,
                     *       "tenant": {
                     *         "max_jobs": 16,
                     *         "max_items_in_flight": 1000000,
                     *         "max_uploads": 20,
                     *         "max_upload_bytes": 10737418240,
                     *         "max_result_bytes": 2147483648
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Limits"];
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    listModels: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The catalogue. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        models: components["schemas"]["ModelInfo"][];
                        /** @description Every model's aliases, by model then name. */
                        aliases: components["schemas"]["Alias"][];
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    getModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model's versions. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        name: string;
                        versions: components["schemas"]["ModelInfo"][];
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    predict: {
        parameters: {
            query?: {
                /**
                 * @description Model version, or an alias of the model (drawn by weight among its
                 *     versions); when omitted, the highest version a worker serves. A job
                 *     pins the version chosen when it is submitted.
                 */
                version?: components["parameters"]["Version"];
                /**
                 * @description How long to wait, as a duration (e.g. `2s`, `500ms`), within
                 *     [`GATEWAY_MIN_SYNC_TIMEOUT` (10ms), `GATEWAY_SYNC_TIMEOUT` (10s)];
                 *     outside them a 400 names the bounds.
                 */
                timeout?: string;
            };
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "inputs": [
                 *         [
                 *           0,
                 *           0,
                 *           5,
                 *           13,
                 *           9,
                 *           1,
                 *           0,
                 *           0,
                 *           0,
                 *           0,
                 *           13,
                 *           15,
                 *           10,
                 *           15,
                 *           5,
                 *           0,
                 *           0,
                 *           3,
                 *           15,
                 *           2,
                 *           0,
                 *           11,
                 *           8,
                 *           0,
                 *           0,
                 *           4,
                 *           12,
                 *           0,
                 *           0,
                 *           8,
                 *           8,
                 *           0,
                 *           0,
                 *           5,
                 *           8,
                 *           0,
                 *           0,
                 *           9,
                 *           8,
                 *           0,
                 *           0,
                 *           4,
                 *           11,
                 *           0,
                 *           1,
                 *           12,
                 *           7,
                 *           0,
                 *           0,
                 *           2,
                 *           14,
                 *           5,
                 *           10,
                 *           12,
                 *           0,
                 *           0,
                 *           0,
                 *           0,
                 *           6,
                 *           13,
                 *           10,
                 *           0,
                 *           0,
                 *           0
                 *         ]
                 *       ]
                 *     }
                 */
                "application/json": {
                    inputs: components["schemas"]["ItemInput"][];
                };
            };
        };
        responses: {
            /** @description One result per input, in order. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        model: string;
                        version: string;
                        items: components["schemas"]["ItemResult"][];
                        latency_ms: number;
                    };
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            408: components["responses"]["Error"];
            413: components["responses"]["Error"];
            415: components["responses"]["Error"];
            429: components["responses"]["Error"];
            503: components["responses"]["Error"];
            /** @description The prediction did not finish in time (`timeout`). */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            default: components["responses"]["Error"];
        };
    };
    listModelVersions: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The versions, in version order. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RegistryVersions"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    pushModelVersion: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/octet-stream": string;
                "application/gzip": string;
                "application/zip": string;
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description The archive or .tflite file.
                     */
                    model: string;
                    /** @description metadata.json (JSON), when the archive holds none. */
                    metadata?: string;
                };
            };
        };
        responses: {
            /** @description Registered; workers load it next. */
            201: {
                headers: {
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RegistryVersion"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Error"];
            413: components["responses"]["Error"];
            429: components["responses"]["Error"];
            503: components["responses"]["Error"];
            504: components["responses"]["Error"];
            507: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    retireModelVersion: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Retiring. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RegistryVersion"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    setModelAlias: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                alias: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "weights": {
                 *         "3": 90,
                 *         "4": 10
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["AliasRequest"];
            };
        };
        responses: {
            /** @description The alias as set. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Alias"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    deleteModelAlias: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                alias: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    listJobs: {
        parameters: {
            query?: {
                /** @description Most jobs in the page, at most `GATEWAY_MAX_JOBS_LISTED` (100). */
                limit?: number;
                /** @description `next_cursor` of the previous page. */
                cursor?: string;
                /** @description Only jobs of this model (`name`, any version) or model version (`name:version`). */
                model?: string;
                /** @description Only jobs in one of these states (comma-separated, or the parameter repeated). */
                state?: components["schemas"]["JobState"][];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of jobs. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobList"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    submitJob: {
        parameters: {
            query?: {
                /** @description Model name; required for NDJSON, CSV, binary bodies and uploads. */
                model?: string;
                /**
                 * @description Model version, or an alias of the model (drawn by weight among its
                 *     versions); when omitted, the highest version a worker serves. A job
                 *     pins the version chosen when it is submitted.
                 */
                version?: components["parameters"]["Version"];
                /**
                 * @description A name for the input (e.g. its file's name), listed with the job. It
                 *     wins over the JSON body's `name` and a `Content-Disposition`
                 *     filename. Leading directories and surrounding spaces are dropped;
                 *     UTF-8 of at most `GATEWAY_MAX_JOB_NAME_BYTES` (255) bytes, without
                 *     control or bidirectional formatting characters, else 400 `bad_request`.
                 */
                name?: string;
                /**
                 * @description A dataset job: the id of a finished upload of the caller's tenant
                 *     (`/v1/uploads`, tus), read by the gateways in the background with
                 *     checkpoints, without a body. The job is answered at once with
                 *     `ingesting: true`; its first chunks run while the rest is read.
                 *     404 `not_found` for an unknown upload or another tenant's, 409
                 *     `conflict` for one not finished, 410 `expired` for an expired one.
                 */
                upload?: string;
                /** @description With `upload`: how to read it (`ndjson`, `csv`, `npy`, or `octet-stream` for raw float32); by default from its `filetype` metadata, then its file name's extension (`.ndjson`/`.jsonl`, `.csv`, `.npy`, `.bin`/`.f32`/`.raw`). */
                format?: "ndjson" | "csv" | "npy" | "octet-stream";
                /**
                 * @description NDJSON and CSV inputs: how many lines that cannot be read (bad JSON,
                 *     wrong number of values, an image that does not decode) are accepted
                 *     as failed items, each with its line and reason (in the job's errors
                 *     file). One more fails the whole request (400 naming the line) or,
                 *     for a dataset already accepted, the job. 0 by default: any bad line
                 *     refuses the input.
                 */
                max_invalid?: number;
                /** @description CSV: the column holding each item's id (not an input feature); the id is returned with its result (`id`) and in the output file. */
                id_column?: string;
                /** @description The order the tenant's jobs are served in, within its fair share (`high`, `normal`, `low`); a JSON body's `priority` wins. */
                priority?: "high" | "normal" | "low";
                /** @description An RFC 3339 time or a duration from now (`90m`); items not started by then are skipped and the job ends `deadline_exceeded`. A JSON body's `deadline` wins. */
                deadline?: string;
                /**
                 * @description A URL the job's end is POSTed to (`jobEnded` in `webhooks`), for
                 *     bodies other than JSON (a JSON body's `webhook` wins). `none`
                 *     turns the tenant's default webhook off. 400 `bad_request` when it
                 *     is not an absolute `https` URL (`http` only where
                 *     `WEBHOOK_SCHEMES` allows it), carries credentials or a fragment,
                 *     is longer than `WEBHOOK_MAX_URL_BYTES` (2048), names or resolves
                 *     to a loopback, private, link-local, multicast, unspecified,
                 *     reserved or cloud-metadata address (unless the operator
                 *     allow-lists it), does not resolve, or when the tenant has no
                 *     webhook secret.
                 */
                webhook?: string;
            };
            header?: {
                /**
                 * @description The input's name from `filename` (or `filename*`), when neither `name` is given.
                 * @example attachment; filename="digits.ndjson"
                 */
                "Content-Disposition"?: string;
                /** @description A client key; repeating it returns the job created by the first request. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        /** @description The items (none with `upload`). */
        requestBody?: {
            content: {
                "application/json": components["schemas"]["SubmitJobRequest"];
                /** @example [0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0] */
                "application/x-ndjson": string;
                /**
                 * @example mean radius,mean texture,...
                 *     17.99,10.38,...
                 */
                "text/csv": string;
                "application/octet-stream": string;
                "application/x-npy": string;
            };
        };
        responses: {
            /** @description The `Idempotency-Key` was seen before; this is the job it created. */
            200: {
                headers: {
                    Location?: string;
                    "Idempotent-Replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SubmitJobResponse"];
                };
            };
            /** @description Queued. */
            202: {
                headers: {
                    /** @description URL of the job (`links.self`). */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SubmitJobResponse"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            408: components["responses"]["Error"];
            409: components["responses"]["Error"];
            413: components["responses"]["Error"];
            415: components["responses"]["Error"];
            /**
             * @description The key's request rate (`rate_limited`), the tenant's quotas
             *     (`quota_exceeded`: unfinished jobs, items in flight by cost,
             *     submissions uploading at once), the model's backlog
             *     (`backlog_full`: its items not done yet, every tenant's, would
             *     pass `GATEWAY_MAX_MODEL_BACKLOG`, or the tenant's on it
             *     `GATEWAY_MAX_TENANT_BACKLOG`; `Retry-After` is the time the excess
             *     takes at the model's current rate), with `Retry-After`.
             */
            429: {
                headers: {
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            503: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    getJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The status, with the links to its results and files. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Job"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    getResults: {
        parameters: {
            query?: {
                /** @description First item index of the page. */
                offset?: number;
                /** @description Most items in the page. */
                limit?: number;
                format?: "json" | "ndjson";
            };
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Results. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ResultsPage"];
                    "application/x-ndjson": string;
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            429: components["responses"]["Error"];
            503: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    cancelJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job, now `cancelled`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobStatus"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    getJobWebhooks: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The webhook and its deliveries (none before the job ends, or without a webhook). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobWebhooks"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            429: components["responses"]["Error"];
        };
    };
    getOutputFile: {
        parameters: {
            query?: {
                format?: components["parameters"]["FileFormat"];
            };
            header?: {
                /** @description One byte range: `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX`. */
                Range?: components["parameters"]["Range"];
                /** @description The `ETag` (or `Last-Modified`) of the part already downloaded; another file's gets the whole file (200). */
                "If-Range"?: components["parameters"]["IfRange"];
                "If-None-Match"?: components["parameters"]["IfNoneMatch"];
                "If-Modified-Since"?: components["parameters"]["IfModifiedSince"];
            };
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["File"];
            206: components["responses"]["FilePart"];
            304: components["responses"]["FileNotModified"];
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            410: components["responses"]["Error"];
            416: components["responses"]["RangeNotSatisfiable"];
            429: components["responses"]["Error"];
            503: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    headOutputFile: {
        parameters: {
            query?: {
                format?: components["parameters"]["FileFormat"];
            };
            header?: {
                /** @description One byte range: `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX`. */
                Range?: components["parameters"]["Range"];
                /** @description The `ETag` (or `Last-Modified`) of the part already downloaded; another file's gets the whole file (200). */
                "If-Range"?: components["parameters"]["IfRange"];
                "If-None-Match"?: components["parameters"]["IfNoneMatch"];
                "If-Modified-Since"?: components["parameters"]["IfModifiedSince"];
            };
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["File"];
            206: components["responses"]["FilePart"];
            304: components["responses"]["FileNotModified"];
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            410: components["responses"]["Error"];
            416: components["responses"]["RangeNotSatisfiable"];
            429: components["responses"]["Error"];
            503: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    getErrorsFile: {
        parameters: {
            query?: {
                format?: components["parameters"]["FileFormat"];
            };
            header?: {
                /** @description One byte range: `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX`. */
                Range?: components["parameters"]["Range"];
                /** @description The `ETag` (or `Last-Modified`) of the part already downloaded; another file's gets the whole file (200). */
                "If-Range"?: components["parameters"]["IfRange"];
                "If-None-Match"?: components["parameters"]["IfNoneMatch"];
                "If-Modified-Since"?: components["parameters"]["IfModifiedSince"];
            };
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["File"];
            206: components["responses"]["FilePart"];
            304: components["responses"]["FileNotModified"];
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            410: components["responses"]["Error"];
            416: components["responses"]["RangeNotSatisfiable"];
            429: components["responses"]["Error"];
            503: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    headErrorsFile: {
        parameters: {
            query?: {
                format?: components["parameters"]["FileFormat"];
            };
            header?: {
                /** @description One byte range: `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX`. */
                Range?: components["parameters"]["Range"];
                /** @description The `ETag` (or `Last-Modified`) of the part already downloaded; another file's gets the whole file (200). */
                "If-Range"?: components["parameters"]["IfRange"];
                "If-None-Match"?: components["parameters"]["IfNoneMatch"];
                "If-Modified-Since"?: components["parameters"]["IfModifiedSince"];
            };
            path: {
                id: components["parameters"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["File"];
            206: components["responses"]["FilePart"];
            304: components["responses"]["FileNotModified"];
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            410: components["responses"]["Error"];
            416: components["responses"]["RangeNotSatisfiable"];
            429: components["responses"]["Error"];
            503: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    listDeadLetters: {
        parameters: {
            query?: {
                /** @description Most letters in the page (at most 1000). */
                limit?: number;
                /** @description `next_cursor` of the previous page. */
                cursor?: string;
                /** @description Only this job's letters. */
                job?: string;
                /** @description Only letters of this model (`name`, any version) or model version (`name:version`). */
                model?: string;
                /** @description Only this tenant's letters (operators; a user may name only its own tenant, else 403). */
                tenant?: string;
                /** @description `batch` (the default) or `sync` (operators). */
                kind?: "batch" | "sync";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of letters. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeadLetterList"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    purgeJobDeadLetters: {
        parameters: {
            query: {
                job: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description How many letters went. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Purged"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    getDeadLetter: {
        parameters: {
            query?: {
                /** @description First item of the page (0 is the chunk's first). */
                offset?: number;
                /** @description Most items in the page (at most 1000). */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description A dead letter's `id`. */
                id: components["parameters"]["LetterId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The letter with a page of its items. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeadLetterDetail"];
                };
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            410: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    purgeDeadLetter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A dead letter's `id`. */
                id: components["parameters"]["LetterId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Purged. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            429: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    redriveDeadLetter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description A dead letter's `id`. */
                id: components["parameters"]["LetterId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The chunk is queued again; the job's status. */
            202: {
                headers: {
                    /** @description The job. */
                    Location?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Redriven"];
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            410: components["responses"]["Error"];
            429: components["responses"]["Error"];
            503: components["responses"]["Error"];
            507: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    createUpload: {
        parameters: {
            query?: never;
            header: {
                /** @description The tus version; 412 `precondition_failed` without it. */
                "Tus-Resumable": components["parameters"]["TusResumable"];
                /** @description The upload's size in bytes (`Upload-Defer-Length` is not supported). */
                "Upload-Length": number;
                /**
                 * @description Comma-separated `key base64(value)` pairs, e.g. `filename` and
                 *     `filetype` (at most `-max-upload-metadata-bytes`, 4 KiB).
                 */
                "Upload-Metadata"?: string;
                /** @description `ALGORITHM BASE64DIGEST` of this request's body (sha1, sha256, sha512 or md5). */
                "Upload-Checksum"?: components["parameters"]["UploadChecksum"];
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/offset+octet-stream": string;
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    /** @description The upload's URL, `/v1/uploads/{id}`. */
                    Location?: string;
                    /** @description Bytes stored (with a body). */
                    "Upload-Offset"?: number;
                    /** @description When the upload is deleted unless finished (RFC 9110 date). */
                    "Upload-Expires"?: string;
                    "Tus-Resumable"?: "1.0.0";
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            412: components["responses"]["Error"];
            413: components["responses"]["Error"];
            429: components["responses"]["Error"];
            460: components["responses"]["Error"];
            507: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    uploadsDiscovery: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description What the server supports. */
            200: {
                headers: {
                    "Tus-Resumable"?: "1.0.0";
                    "Tus-Version"?: "1.0.0";
                    "Tus-Extension"?: string;
                    /** @description The largest upload in bytes (`-max-upload-size`, 10 GiB by default). */
                    "Tus-Max-Size"?: number;
                    "Tus-Checksum-Algorithm"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
        };
    };
    deleteUpload: {
        parameters: {
            query?: never;
            header: {
                /** @description The tus version; 412 `precondition_failed` without it. */
                "Tus-Resumable": components["parameters"]["TusResumable"];
            };
            path: {
                /** @description The last segment of the upload's `Location`. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            412: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    uploadOffset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The last segment of the upload's `Location`. */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The upload's state. */
            200: {
                headers: {
                    "Upload-Offset"?: number;
                    "Upload-Length"?: number;
                    "Upload-Metadata"?: string;
                    "Upload-Expires"?: string;
                    "Cache-Control"?: "no-store";
                    [name: string]: unknown;
                };
                content?: never;
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            410: components["responses"]["Error"];
        };
    };
    uploadBytes: {
        parameters: {
            query?: never;
            header: {
                /** @description The tus version; 412 `precondition_failed` without it. */
                "Tus-Resumable": components["parameters"]["TusResumable"];
                "Upload-Offset": number;
                /** @description `ALGORITHM BASE64DIGEST` of this request's body (sha1, sha256, sha512 or md5). */
                "Upload-Checksum"?: components["parameters"]["UploadChecksum"];
            };
            path: {
                /** @description The last segment of the upload's `Location`. */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/offset+octet-stream": string;
            };
        };
        responses: {
            /** @description Stored. */
            204: {
                headers: {
                    /** @description The new offset. */
                    "Upload-Offset"?: number;
                    "Upload-Expires"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["Error"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["Error"];
            409: components["responses"]["Error"];
            410: components["responses"]["Error"];
            412: components["responses"]["Error"];
            413: components["responses"]["Error"];
            415: components["responses"]["Error"];
            460: components["responses"]["Error"];
            507: components["responses"]["Error"];
            default: components["responses"]["Error"];
        };
    };
    getCluster: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The cluster. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ClusterInfo"];
                };
            };
            403: components["responses"]["Forbidden"];
            default: components["responses"]["Error"];
        };
    };
    websocket: {
        parameters: {
            query?: never;
            header: {
                Upgrade: "websocket";
            };
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Switching protocols. */
            101: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /**
             * @description An `Authorization` header was sent and is not valid. Browsers, which
             *     cannot set headers on a WebSocket, connect without one and send an
             *     `auth` message first (see websocket.md).
             */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The `Origin` is not allowed. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The tenant's rate (`rate_limited`) or connection quota (`quota_exceeded`), with `Retry-After`. */
            429: {
                headers: {
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too many connections (`too_many_connections`: authenticated ones,
             *     `GATEWAY_MAX_WS_CONNECTIONS`; or ones waiting for their `auth`
             *     message, `GATEWAY_MAX_WS_PREAUTH`, per client address
             *     `GATEWAY_MAX_WS_PREAUTH_PER_ADDR`), with `Retry-After`.
             */
            503: {
                headers: {
                    "Retry-After"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    oipServerMetadata: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The server's name, version and protocol extensions. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "name": "batchinfer",
                     *       "version": "1.0.0",
                     *       "extensions": [
                     *         "binary_tensor_data",
                     *         "classification"
                     *       ]
                     *     }
                     */
                    "application/json": components["schemas"]["OIPServerMetadata"];
                };
            };
        };
    };
    oipLive: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OIPLive"];
                };
            };
        };
    };
    oipReady: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OIPReady"];
                };
            };
            503: components["responses"]["OIPError"];
        };
    };
    oipModelMetadata: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["OIPModelMetadata"];
            400: components["responses"]["OIPError"];
            401: components["responses"]["OIPError"];
            404: components["responses"]["OIPError"];
            429: components["responses"]["OIPError"];
        };
    };
    oipModelVersionMetadata: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["OIPModelMetadata"];
            400: components["responses"]["OIPError"];
            401: components["responses"]["OIPError"];
            404: components["responses"]["OIPError"];
            429: components["responses"]["OIPError"];
        };
    };
    oipModelReady: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["OIPModelReady"];
            401: components["responses"]["OIPError"];
            404: components["responses"]["OIPError"];
            503: components["responses"]["OIPError"];
        };
    };
    oipModelVersionReady: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["OIPModelReady"];
            401: components["responses"]["OIPError"];
            404: components["responses"]["OIPError"];
            503: components["responses"]["OIPError"];
        };
    };
    oipInfer: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Binary tensor data extension: the length of the body's JSON part;
                 *     the bytes after it are the inputs' `binary_data_size` bytes, in order.
                 */
                "Inference-Header-Content-Length"?: components["parameters"]["InferenceHeaderLength"];
            };
            path: {
                name: components["parameters"]["ModelName"];
            };
            cookie?: never;
        };
        requestBody: components["requestBodies"]["OIPInfer"];
        responses: {
            200: components["responses"]["OIPInfer"];
            400: components["responses"]["OIPError"];
            401: components["responses"]["OIPError"];
            404: components["responses"]["OIPError"];
            413: components["responses"]["OIPError"];
            415: components["responses"]["OIPError"];
            429: components["responses"]["OIPError"];
            500: components["responses"]["OIPError"];
            503: components["responses"]["OIPError"];
            504: components["responses"]["OIPError"];
        };
    };
    oipInferVersion: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Binary tensor data extension: the length of the body's JSON part;
                 *     the bytes after it are the inputs' `binary_data_size` bytes, in order.
                 */
                "Inference-Header-Content-Length"?: components["parameters"]["InferenceHeaderLength"];
            };
            path: {
                name: components["parameters"]["ModelName"];
                /** @description Model version. */
                version: components["parameters"]["VersionPath"];
            };
            cookie?: never;
        };
        requestBody: components["requestBodies"]["OIPInfer"];
        responses: {
            200: components["responses"]["OIPInfer"];
            400: components["responses"]["OIPError"];
            401: components["responses"]["OIPError"];
            404: components["responses"]["OIPError"];
            413: components["responses"]["OIPError"];
            415: components["responses"]["OIPError"];
            429: components["responses"]["OIPError"];
            500: components["responses"]["OIPError"];
            503: components["responses"]["OIPError"];
            504: components["responses"]["OIPError"];
        };
    };
    jobEnded: {
        parameters: {
            query?: never;
            header: {
                /** @description The event's id, the same on every attempt (`msg_{job}_{completed|failed|cancelled}`). */
                "webhook-id": string;
                /** @description When this attempt was signed (Unix seconds). */
                "webhook-timestamp": string;
                /** @description Space-separated `v1,<base64 HMAC-SHA256>` signatures. */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookPayload"];
            };
        };
        responses: {
            /** @description Received; not sent again. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
