import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension AttentiveClient {
    /// Submits up to 256 updates as one bulk job: `POST /v2/bulk/user/attributes`. Rate-limited and
    /// retried like ``sendCustomAttributes(_:)``; `.accepted` carries the job id to poll.
    ///
    /// Refused unsent (`.rejected(status: 0, …)`) when empty, above 256, or when a record has
    /// neither email nor phone (its index is named), so one bad row cannot make Attentive refuse
    /// the batch.
    public func submitBulk(_ updates: [AttributeUpdate]) async -> BulkSubmission {
        guard !updates.isEmpty else {
            return .rejected(status: 0, message: "a bulk submission needs at least one update")
        }
        guard updates.count <= RequestBody.maxBulkUsers else {
            return .rejected(
                status: 0,
                message: "a bulk submission takes at most \(RequestBody.maxBulkUsers) updates, not \(updates.count)")
        }
        if let index = updates.firstIndex(where: { !$0.user.hasIdentifier }) {
            return .rejected(status: 0, message: "update \(index) has neither an email nor a phone number")
        }
        guard let body = try? RequestBody.bulkUserAttributes(updates),
            let url = requests.url(path: "/v2/bulk/user/attributes")
        else { return .rejected(status: 0, message: "the batch could not be encoded") }
        let result = await executor.execute(
            requests.request(method: "POST", url: url, body: body), limiter: bulkSubmitLimiter)
        switch result {
        case .response(let response, let attempts):
            guard (200..<300).contains(response.status) else {
                return .rejected(status: response.status, message: executor.summary(of: response))
            }
            guard let jobId = ResponseBody.bulkJobId(response.body) else {
                return .gaveUp(
                    lastStatus: response.status,
                    lastError: "Attentive accepted the batch but sent no batchJobId: " + executor.summary(of: response),
                    attempts: attempts)
            }
            return .accepted(jobId: jobId, attempts: attempts)
        case .unauthorized(let status, let message):
            return .unauthorized(status: status, message: message)
        case .gaveUp(let lastStatus, let lastError, let attempts):
            return .gaveUp(lastStatus: lastStatus, lastError: lastError, attempts: attempts)
        case .notSent(let reason):
            return .notSent(reason: reason)
        }
    }

    /// Reads a bulk job's state: `GET /v2/bulk/job/{id}`. Rate-limited and retried.
    ///
    /// `COMPLETED` (or `SUCCEEDED`, `SUCCESS`, `DONE`, `FINISHED`) → `.completed` with the results URL
    /// (resolved against the base URL if relative); `FAILED` (or `FAILURE`, `ERROR`, `CANCELLED`,
    /// `CANCELED`, `ABORTED`) → `.failed`; any other word (`IN_PROGRESS`, `PENDING`, …) →
    /// `.inProgress`; 404 → `.unknownJob`; everything else, 401/403 included (which halt the
    /// client) → `.error`.
    public func bulkJobStatus(jobId: String) async -> BulkJobStatus {
        guard !jobId.isEmpty, let url = requests.url(path: "/v2/bulk/job/" + RequestFactory.escape(jobId)) else {
            return .error("invalid job id")
        }
        let operation = "GET /v2/bulk/job/{id}"
        let result = await executor.execute(requests.request(method: "GET", url: url), limiter: bulkJobLimiter)
        guard case .response(let response, let attempts) = result else {
            return .error(error(operation, result).description)
        }
        if response.status == 404 { return .unknownJob }
        guard (200..<300).contains(response.status) else {
            return .error(error(operation, .rejected, response: response, attempts: attempts).description)
        }
        guard let job = ResponseBody.jobStatus(response.body), let status = job.status, !status.isEmpty else {
            return .error(error(operation, .unexpectedResponse, response: response, attempts: attempts).description)
        }
        switch status.uppercased() {
        case "COMPLETED", "COMPLETE", "SUCCEEDED", "SUCCESS", "DONE", "FINISHED":
            let resultsURL = job.url.flatMap { URL(string: $0, relativeTo: requests.root)?.absoluteURL }
            return .completed(resultsURL: resultsURL)
        case "FAILED", "FAILURE", "ERROR", "CANCELLED", "CANCELED", "ABORTED":
            let message = job.message.map { executor.redactor.redact(ResponseMessage.bounded($0)) }
            return .failed(message.map { "\(status): \($0)" } ?? status)
        default:
            return .inProgress(status)
        }
    }

    /// Downloads and parses a completed job's per-record results (JSON Lines), leniently: see
    /// ``BulkRecordResult``. The API key is sent only if `url` is on the API's own host; a 401/403
    /// from another host (say an expired pre-signed link) fails this call without halting the client.
    public func bulkResults(at url: URL) async -> Result<[BulkRecordResult], AttentiveError> {
        let operation = "GET bulk results"
        let ownHost = requests.isAPIHost(url)
        let result = await executor.execute(
            requests.request(method: "GET", url: url),
            limiter: ownHost ? bulkJobLimiter : nil,
            haltingStatuses: ownHost ? [401, 403] : []
        )
        guard case .response(let response, let attempts) = result else { return .failure(error(operation, result)) }
        guard (200..<300).contains(response.status) else {
            return .failure(error(operation, .rejected, response: response, attempts: attempts))
        }
        return .success(ResponseBody.bulkResults(response.body))
    }
}
