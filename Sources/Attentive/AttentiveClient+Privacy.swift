import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The one identity a deletion request names (`PrivacyRequestAddDeleteEventDto` takes one of them).
public enum DeletionSubject: Sendable, Equatable {
    /// `subjectEmail`.
    case email(String)
    /// `subjectPhone`, in E.164.
    case phone(String)
}

/// What `GET /v1/privacy/delete-request/{id}` reports about one deletion request.
public struct DeletionRequestStatus: Sendable, Equatable {
    /// The request's id.
    public var id: String
    /// Whether Attentive has processed (carried out) the deletion.
    public var processed: Bool
    /// When processing completed, as Attentive wrote it, when it has.
    public var processingEndDateTime: String?

    /// A status with the given fields.
    public init(id: String, processed: Bool, processingEndDateTime: String? = nil) {
        self.id = id
        self.processed = processed
        self.processingEndDateTime = processingEndDateTime
    }
}

extension AttentiveClient {
    /// Files a deletion request for one identity: `POST /v1/privacy/delete-request`. Paced by its own limiter and
    /// retried like every request; `message` is the audit `requestMsg`.
    /// - Returns: The request id Attentive answered, or why none was filed (a 2xx without an id is
    ///   `.unexpectedResponse`).
    public func requestDeletion(of subject: DeletionSubject, message: String?) async -> Result<
        String, AttentiveError
    > {
        let operation = "POST /v1/privacy/delete-request"
        guard let body = try? RequestBody.deleteRequest(subject, message: message),
            let url = requests.url(path: "/v1/privacy/delete-request")
        else {
            return .failure(
                AttentiveError(kind: .invalidRequest, operation: operation, message: "the request could not be built"))
        }
        let result = await executor.execute(
            requests.request(method: "POST", url: url, body: body), limiter: privacyLimiter)
        guard case .response(let response, let attempts) = result else { return .failure(error(operation, result)) }
        guard (200..<300).contains(response.status) else {
            return .failure(error(operation, .rejected, response: response, attempts: attempts))
        }
        guard let id = ResponseBody.privacyRequest(response.body)?.id, !id.isEmpty else {
            return .failure(error(operation, .unexpectedResponse, response: response, attempts: attempts))
        }
        return .success(id)
    }

    /// Reads a deletion request's state: `GET /v1/privacy/delete-request/{id}`. Paced and retried; a 404 is
    /// `.rejected` with status 404.
    public func deletionStatus(requestId: String) async -> Result<DeletionRequestStatus, AttentiveError> {
        let operation = "GET /v1/privacy/delete-request/{id}"
        guard !requestId.isEmpty,
            let url = requests.url(path: "/v1/privacy/delete-request/" + RequestFactory.escape(requestId))
        else {
            return .failure(AttentiveError(kind: .invalidRequest, operation: operation, message: "invalid request id"))
        }
        let result = await executor.execute(requests.request(method: "GET", url: url), limiter: privacyLimiter)
        guard case .response(let response, let attempts) = result else { return .failure(error(operation, result)) }
        guard (200..<300).contains(response.status) else {
            return .failure(error(operation, .rejected, response: response, attempts: attempts))
        }
        guard let dto = ResponseBody.privacyRequest(response.body), let processed = dto.processed else {
            return .failure(error(operation, .unexpectedResponse, response: response, attempts: attempts))
        }
        return .success(
            DeletionRequestStatus(
                id: dto.id ?? requestId, processed: processed, processingEndDateTime: dto.processingEndDateTime))
    }
}
