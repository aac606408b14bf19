import Foundation

/// The endpoint behaviours, run after authentication, rate limiting and fault injection.
extension SimulatorEngine {
    /// Produces the answer of an admitted, non-faulted request.
    func perform(_ route: APIRoute, request: HTTPRequest, configuration: SimulatorConfiguration) -> ServerResponse {
        let badIdentities = Set(configuration.faults.badIdentities)
        switch route {
        case .postCustomAttributes:
            return postCustomAttributes(request.body, badIdentities: badIdentities, configuration: configuration)
        case .getCustomAttributes:
            return getCustomAttributes(request.queryItems)
        case .postCustomEvents:
            return postCustomEvents(request.body, badIdentities: badIdentities, configuration: configuration)
        case .me:
            return .json(200, SimulatorEngine.meResponse)
        case .submitBulk:
            return submitBulk(request.body, configuration: configuration, badIdentities: badIdentities)
        case .bulkStatus(let id):
            return bulkStatus(id)
        case .fileDeleteRequest:
            return fileDeleteRequest(request.body, configuration: configuration)
        case .deleteRequestStatus(let id):
            return deleteRequestStatus(id)
        }
    }

    /// `GET /v1/me` and `GET /v2/me` (`GetMeResponseDto`).
    static let meResponse = OrderedJSON.makeObject([
        ("applicationName", .string("Attentive Simulator")),
        ("attentiveDomainName", .string("simulator.attn.tv")),
        ("companyName", .string("Simulated Company")),
        ("contactEmail", .string("simulator@example.com")),
        ("companyId", .string("U2ltdWxhdGVkQ29tcGFueQ")),
    ])

    /// `POST /v1/attributes/custom`: validate, upsert, answer 200 with an empty body.
    private func postCustomAttributes(
        _ body: [UInt8], badIdentities: Set<String>, configuration: SimulatorConfiguration
    ) -> ServerResponse {
        switch AttributeValidation.customAttributesRequest(body, badIdentities: badIdentities) {
        case .failure(let failure):
            guard failure.isBadIdentity else { return .error(400, failure.message) }
            statistics.recordFault(.badIdentity)
            return .error(
                configuration.faults.rejectionStatus, configuration.faults.rejectionMessage ?? failure.message)
        case .success(let update):
            profiles.apply(update)
            statistics.recordAcceptedUpdate()
            let status = configuration.successStatus
            return ServerResponse(status: (200..<300).contains(status) ? status : 200)
        }
    }

    /// `GET /v1/attributes/custom?email=` or `?phone=`: `[{"name": ..., "value": ...}]` sorted by name.
    private func getCustomAttributes(_ query: [(name: String, value: String)]) -> ServerResponse {
        let identifiers = query.filter { $0.name == "email" || $0.name == "phone" }
        guard identifiers.count == 1, let identifier = identifiers.first, !identifier.value.isEmpty else {
            return .error(400, "Exactly one query parameter is required: email or phone")
        }
        let profile: SimulatedProfile?
        if identifier.name == "phone" {
            guard AttributeValidation.isE164(identifier.value) else {
                return .error(400, "phone must be in E.164 format (encode '+' as %2B in the query)")
            }
            profile = profiles.profile(phone: identifier.value)
        } else {
            profile = profiles.profile(email: identifier.value)
        }
        guard let profile else { return .error(404, "User not found") }
        let items = profile.attributes.sorted { $0.key < $1.key }.map { name, value in
            OrderedJSON.makeObject([("name", .string(name)), ("value", .string(value))])
        }
        return .json(200, .array(items))
    }

    /// `POST /v2/bulk/user/attributes`: validate the envelope, register the job, answer 202.
    private func submitBulk(_ body: [UInt8], configuration: SimulatorConfiguration, badIdentities: Set<String>)
        -> ServerResponse
    {
        switch BulkRequestParser.parse(body, badIdentities: badIdentities) {
        case .failure(let failure):
            return .error(400, failure.message)
        case .success(let parsed):
            // Refused records carry `rejectionMessage`, as v1 refusals do.
            let records = parsed.map { record in
                guard let message = configuration.faults.rejectionMessage, case .failure(let failure) = record.outcome,
                    failure.isBadIdentity
                else { return record }
                var refused = record
                refused.outcome = .failure(ValidationFailure(message: message, isBadIdentity: true))
                return refused
            }
            let badRecords = records.filter {
                if case .failure(let failure) = $0.outcome { return failure.isBadIdentity }
                return false
            }
            statistics.recordFault(.badIdentity, count: badRecords.count)
            statistics.recordBulkJob()
            let id = bulk.submit(records, delayMilliseconds: configuration.bulkCompletionDelayMilliseconds)
            return .json(
                202,
                .makeObject([
                    ("message", .string("Bulk user attributes job successfully submitted")),
                    ("batchJobId", .string(id)),
                ]))
        }
    }

    /// `GET /v2/bulk/job/{id}` (`BulkJobStatusResponse`).
    private func bulkStatus(_ id: String) -> ServerResponse {
        guard let status = bulk.status(id) else { return .error(404, "Bulk job not found: \(id)") }
        var pairs: [(String, OrderedJSON)] = [
            ("bulkJobId", .string(status.id)),
            ("status", .string(status.completed ? "COMPLETED" : "IN_PROGRESS")),
            ("totalRecords", .number(String(status.totalRecords))),
        ]
        if status.completed {
            pairs.append(("url", .string("http://127.0.0.1:\(port)/__simulator/bulk-results/\(status.id).jsonl")))
        }
        return .json(200, .makeObject(pairs))
    }
}
