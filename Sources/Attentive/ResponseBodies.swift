import Foundation

/// Lenient parsers for the bodies Attentive answers with. Each tolerates extra fields, missing
/// optional fields and loosely typed values, because the published schemas are known to be
/// imprecise (the custom-attributes response, for one, names its field `name`, not `attribute`).
enum ResponseBody {
    /// `GetCustomAttributesResponse`: `[{"name": ..., "value": ...}]` into name → value.
    ///
    /// Also accepts the field spelled `attribute` or `key`, an object wrapping such an array, or a
    /// plain object of name → scalar. An empty body is no attributes. Returns `nil` for any other
    /// shape.
    static func customAttributes(_ body: Data) -> [String: String]? {
        if String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return [:]
        }
        guard let value = JSONValue.parse(body) else { return nil }
        if let array = value.arrayValue { return attributePairs(array) }
        guard let members = value.objectValue else { return nil }
        for member in members.values {
            if let array = member.arrayValue, let pairs = attributePairs(array) { return pairs }
        }
        var result: [String: String] = [:]
        for (name, member) in members {
            guard let text = member.scalarText else { return nil }
            result[name] = text
        }
        return result
    }

    private static func attributePairs(_ array: [JSONValue]) -> [String: String]? {
        var result: [String: String] = [:]
        for element in array {
            guard let entry = element.objectValue,
                let name = (entry["name"] ?? entry["attribute"] ?? entry["key"])?.scalarText
            else { return nil }
            result[name] = entry["value"]?.scalarText ?? ""
        }
        return result
    }

    /// The job id of a `BulkSuccessResponse` (`batchJobId`; `bulkJobId`, `jobId` or `id` accepted too).
    static func bulkJobId(_ body: Data) -> String? {
        guard let members = JSONValue.parse(body)?.objectValue else { return nil }
        for key in ["batchJobId", "bulkJobId", "jobId", "id"] {
            if let id = members[key]?.scalarText, !id.isEmpty { return id }
        }
        return nil
    }

    /// The fields of a `BulkJobStatusResponse` the client uses.
    struct JobStatus: Equatable {
        var status: String?
        var url: String?
        var message: String?
    }

    /// Parses a `BulkJobStatusResponse`; `nil` when the body is not a JSON object.
    static func jobStatus(_ body: Data) -> JobStatus? {
        guard let members = JSONValue.parse(body)?.objectValue else { return nil }
        let message = ["error", "errorMessage", "errors", "message", "reason"].lazy
            .compactMap { members[$0]?.messageText }
            .first
        return JobStatus(
            status: (members["status"] ?? members["state"])?.scalarText,
            url: (members["url"] ?? members["resultsUrl"] ?? members["resultUrl"])?.scalarText,
            message: message
        )
    }

    /// The fields of a `PrivacyRequestDto` the client uses.
    struct PrivacyRequest: Equatable {
        var id: String?
        var processed: Bool?
        var processingEndDateTime: String?
    }

    /// Parses a `PrivacyRequestDto`; `processed` also read from the text `"true"`/`"false"`. `nil` when the body is
    /// not a JSON object.
    static func privacyRequest(_ body: Data) -> PrivacyRequest? {
        guard let members = JSONValue.parse(body)?.objectValue else { return nil }
        let processed: Bool? =
            switch members["processed"]?.scalarText?.lowercased() {
            case "true": true
            case "false": false
            default: nil
            }
        return PrivacyRequest(
            id: members["id"]?.scalarText, processed: processed,
            processingEndDateTime: members["processingEndDateTime"]?.scalarText)
    }

    /// Per-record results from a bulk job's JSON Lines file (a JSON array is accepted too).
    ///
    /// Lines that are blank or not JSON objects are skipped. A record without an `index` gets its
    /// position among the parsed records. Success is read from `status` (`SUCCESS`, `SUCCEEDED`,
    /// `OK`, `COMPLETED`, `ACCEPTED`, or a 2xx number), a `success`/`succeeded` boolean, or
    /// `statusCode`; anything else is a failure.
    static func bulkResults(_ body: Data) -> [BulkRecordResult] {
        let objects: [[String: JSONValue]]
        if let array = JSONValue.parse(body)?.arrayValue {
            objects = array.compactMap(\.objectValue)
        } else {
            let text = String(decoding: body, as: UTF8.self)
            objects = text.split(whereSeparator: \.isNewline).compactMap { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty else { return nil }
                return JSONValue.parse(Data(trimmed.utf8))?.objectValue
            }
        }
        return objects.enumerated().map { position, object in record(object, position: position) }
    }

    private static func record(_ object: [String: JSONValue], position: Int) -> BulkRecordResult {
        let index = ["index", "recordIndex", "position"].lazy.compactMap { object[$0]?.intValue }.first
        let identifiers = (object["identifiers"] ?? object["user"])?.objectValue ?? object
        let user = AttentiveUser(email: identifiers["email"]?.scalarText, phone: identifiers["phone"]?.scalarText)
        let succeeded = succeeded(object)
        var error: String?
        if !succeeded {
            let message = ["error", "errorMessage", "errors", "message", "reason"].lazy
                .compactMap { object[$0]?.messageText }
                .first
            error =
                message.map { ResponseMessage.bounded(ResponseMessage.collapseWhitespace($0)) }
                ?? "record failed without a message"
        }
        return BulkRecordResult(index: index ?? position, identifiers: user, succeeded: succeeded, error: error)
    }

    private static let successWords: Set<String> = [
        "SUCCESS", "SUCCEEDED", "SUCCESSFUL", "OK", "COMPLETED", "ACCEPTED",
    ]

    private static func succeeded(_ object: [String: JSONValue]) -> Bool {
        switch object["status"] {
        case .integer(let code)?: return (200..<300).contains(code)
        case .string(let text)?:
            if let code = Int(text) { return (200..<300).contains(code) }
            return successWords.contains(text.uppercased())
        case .bool(let flag)?: return flag
        default: break
        }
        for key in ["success", "succeeded"] {
            if case .bool(let flag)? = object[key] { return flag }
        }
        if let code = object["statusCode"]?.intValue { return (200..<300).contains(code) }
        return false
    }
}
