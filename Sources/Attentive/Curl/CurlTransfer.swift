import CLibCurl
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One request as a configured libcurl easy handle, the answer it collects and what to call when it ends.
///
/// Made on the calling thread; from submission on, the easy handle, the header and body buffers are touched only
/// by the event loop's thread (libcurl calls the callbacks from `curl_multi_perform`). `state` is the only part
/// shared between threads.
final class CurlTransfer: @unchecked Sendable {
    private struct State {
        var handler: (@Sendable (Result<HTTPResponse, TransportFailure>) -> Void)?
        var completed = false
    }

    let easy: UnsafeMutableRawPointer
    private let deadline: Duration
    private var requestHeaders: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var responseHeaders: [String: String] = [:]
    private var body = Data()
    private let state = Mutex(State())

    private init(easy: UnsafeMutableRawPointer, deadline: Duration) {
        self.easy = easy
        self.deadline = deadline
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if !released { curl_easy_cleanup(easy) }
        curl_slist_free_all(requestHeaders)
        errorBuffer.deallocate()
    }

    /// Whether ``releaseHandle()`` freed the easy handle.
    private var released = false

    /// Frees the easy handle on the loop thread once the transfer is out of the multi handle and its answer taken,
    /// rather than on whichever thread lets go of the transfer last.
    func releaseHandle() {
        guard !released else { return }
        released = true
        curl_easy_cleanup(easy)
    }

    /// An easy handle for `request`, or why none can be made (a request no retry can fix).
    static func make(_ request: URLRequest, deadline: Duration) -> Result<CurlTransfer, TransportFailure> {
        guard let url = request.url?.absoluteString, !url.isEmpty else {
            return .failure(.fatal("request cannot succeed: it has no URL"))
        }
        guard let easy = curl_easy_init() else { return .failure(.connection("curl_easy_init failed: out of memory")) }
        let transfer = CurlTransfer(easy: easy, deadline: deadline)
        var options = CurlOptions(easy: easy)
        transfer.configure(&options, request: request, url: url)
        if let failure = options.failure { return .failure(.fatal("request cannot succeed: \(failure)")) }
        return .success(transfer)
    }

    private func configure(_ options: inout CurlOptions, request: URLRequest, url: String) {
        options.set(CURLOPT_URL, string: url)
        options.set(CURLOPT_NOSIGNAL, 1)
        // The promises of the client: TLS verified against the system's roots, always; HTTP/1.1 keep-alive.
        options.set(CURLOPT_SSL_VERIFYPEER, 1)
        options.set(CURLOPT_SSL_VERIFYHOST, 2)
        options.set(CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        options.set(CURLOPT_TCP_KEEPALIVE, 1)
        // One bound for the whole exchange, to the millisecond; connecting is part of it.
        let milliseconds = max(1, Int((deadline.inSeconds * 1000).rounded(.up)))
        options.set(CURLOPT_TIMEOUT_MS, milliseconds)
        options.set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds)
        // As URLSession did: follow redirects (libcurl never forwards a custom Authorization to another host),
        // accept every encoding libcurl can decode.
        options.set(CURLOPT_FOLLOWLOCATION, 1)
        options.set(CURLOPT_MAXREDIRS, 10)
        options.set(CURLOPT_REDIR_PROTOCOLS_STR, string: "http,https")
        options.set(CURLOPT_ACCEPT_ENCODING, string: "")

        let method = (request.httpMethod ?? "GET").uppercased()
        let body = request.httpBody ?? Data()
        switch method {
        case "GET": options.set(CURLOPT_HTTPGET, 1)
        case "HEAD": options.set(CURLOPT_NOBODY, 1)
        default:
            options.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: curl_off_t(body.count))
            body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies the bytes, so the transfer needs not keep them.
                let empty: StaticString = ""
                let pointer = bytes.baseAddress ?? UnsafeRawPointer(empty.utf8Start)
                options.set(CURLOPT_COPYPOSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: pointer))
            }
            if method != "POST" { options.set(CURLOPT_CUSTOMREQUEST, string: method) }
        }

        // "Expect:" stops libcurl from waiting up to a second for a 100 Continue before sending a large body.
        var lines = ["Expect:"]
        for (name, value) in request.allHTTPHeaderFields ?? [:] {
            // libcurl drops "Name:" (no value) from its list; "Name;" sends the header empty.
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        for line in lines { requestHeaders = curl_slist_append(requestHeaders, line) }
        options.set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(requestHeaders))

        let this = Unmanaged.passUnretained(self).toOpaque()
        options.set(CURLOPT_PRIVATE, pointer: this)
        options.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        options.set(CURLOPT_WRITEFUNCTION, callback: curlReceiveBody)
        options.set(CURLOPT_WRITEDATA, pointer: this)
        options.set(CURLOPT_HEADERFUNCTION, callback: curlReceiveHeader)
        options.set(CURLOPT_HEADERDATA, pointer: this)
    }

    /// Remembers what to call when the transfer ends. Called once, before the transfer is submitted.
    func onCompletion(_ handler: @escaping @Sendable (Result<HTTPResponse, TransportFailure>) -> Void) {
        state.withLock { $0.handler = handler }
    }

    /// Calls the completion handler (on the loop thread, or the submitting one if the loop has stopped); later
    /// calls do nothing.
    func complete(_ completion: Result<HTTPResponse, TransportFailure>) {
        let handler = state.withLock { state -> (@Sendable (Result<HTTPResponse, TransportFailure>) -> Void)? in
            guard !state.completed else { return nil }
            state.completed = true
            defer { state.handler = nil }
            return state.handler
        }
        handler?(completion)
    }

    /// The answer collected, or the failure `code` stands for. Loop thread, after the transfer is done.
    func result(of code: CURLcode) -> Result<HTTPResponse, TransportFailure> {
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            return .failure(CurlFailure.classify(code, detail: detail, deadline: deadline))
        }
        var status = 0
        _ = rs_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        guard status > 0 else { return .failure(.connection("the answer was not an HTTP response")) }
        return .success(HTTPResponse(status: status, headers: responseHeaders, body: body))
    }

    fileprivate func receive(body bytes: UnsafeRawBufferPointer) {
        body.append(contentsOf: bytes)
    }

    /// One header line as libcurl delivers it, CRLF included. A status line starts a new answer (after a
    /// `100 Continue` or a redirect), so only the last answer's headers are kept.
    fileprivate func receive(headerLine bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            responseHeaders = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { return }
        if let earlier = responseHeaders[name] {
            responseHeaders[name] = earlier + ", " + value
        } else {
            responseHeaders[name] = value
        }
    }
}

/// Sets options on one easy handle, remembering the first that failed.
private struct CurlOptions {
    let easy: UnsafeMutableRawPointer
    var failure: String?

    mutating func set(_ option: CURLoption, _ value: Int) {
        check(option, rs_easy_setopt_long(easy, option, value))
    }

    mutating func set(_ option: CURLoption, offset: curl_off_t) {
        check(option, rs_easy_setopt_off_t(easy, option, offset))
    }

    /// libcurl copies string options.
    mutating func set(_ option: CURLoption, string: String) {
        let code = string.withCString { rs_easy_setopt_pointer(easy, option, UnsafeMutableRawPointer(mutating: $0)) }
        check(option, code)
    }

    mutating func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) {
        check(option, rs_easy_setopt_pointer(easy, option, pointer))
    }

    mutating func set(_ option: CURLoption, callback: rs_curl_data_callback) {
        check(option, rs_easy_setopt_callback(easy, option, callback))
    }

    private mutating func check(_ option: CURLoption, _ code: CURLcode) {
        guard code != CURLE_OK, failure == nil else { return }
        failure = "libcurl refused option \(option.rawValue): \(String(cString: curl_easy_strerror(code)))"
    }
}

/// `CURLOPT_WRITEFUNCTION`: appends body bytes to the transfer in `userdata`.
private let curlReceiveBody: rs_curl_data_callback = { bytes, size, count, userdata in
    guard let userdata else { return 0 }
    let length = size * count
    guard let bytes, length > 0 else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.receive(body: UnsafeRawBufferPointer(start: bytes, count: length))
    return length
}

/// `CURLOPT_HEADERFUNCTION`: hands one header line to the transfer in `userdata`.
private let curlReceiveHeader: rs_curl_data_callback = { bytes, size, count, userdata in
    guard let userdata else { return 0 }
    let length = size * count
    guard let bytes, length > 0 else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.receive(headerLine: UnsafeRawBufferPointer(start: bytes, count: length))
    return length
}
