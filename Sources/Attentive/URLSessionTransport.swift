import Dispatch
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// ``HTTPTransport`` over one `URLSession` with a pooled, cache-free, cookie-free configuration.
///
/// Deliberately avoids the swift-corelibs-foundation deadlock of cancelling a Swift task that
/// awaits `URLSession.data(for:)` (#5412): requests run as completion-handler data tasks bridged by a
/// continuation with no cancellation handler, so cancelling the calling task never touches the
/// request. Time is bounded by the session's request timeout (an idle timeout, whole seconds) and,
/// because corelibs does not enforce `timeoutIntervalForResource` (a response trickling forever is
/// otherwise never bounded), by a dispatch-timer watchdog that calls `URLSessionTask.cancel()`
/// directly, outside any Swift task-status lock. TLS verification is the system default.
final class URLSessionTransport: HTTPTransport {
    private let session: URLSession
    private let deadline: Duration

    /// - Parameters:
    ///   - requestTimeout: longest wait for one complete response.
    ///   - maxConnections: `httpMaximumConnectionsPerHost`.
    init(requestTimeout: Duration, maxConnections: Int) {
        let seconds = max(0.001, requestTimeout.inSeconds)
        deadline = Duration.clampedSeconds(seconds)
        let configuration = URLSessionConfiguration.ephemeral
        // corelibs truncates these to whole seconds; below 1 s every request would time out at once.
        configuration.timeoutIntervalForRequest = max(1, seconds.rounded(.up))
        configuration.timeoutIntervalForResource = max(1, seconds.rounded(.up))
        configuration.httpMaximumConnectionsPerHost = max(1, maxConnections)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    func send(_ request: URLRequest) async -> Result<HTTPResponse, TransportFailure> {
        let deadline = self.deadline
        return await withCheckedContinuation { continuation in
            let exchange = Exchange(continuation: continuation)
            let task = session.dataTask(with: request) { data, response, error in
                exchange.finish(
                    Self.result(data: data, response: response, error: error, exchange: exchange, deadline: deadline))
            }
            // A timer source, not asyncAfter: cancelling it on completion releases it at once, so memory
            // follows the requests in flight rather than every request of the last `deadline` seconds.
            let watchdog = DispatchSource.makeTimerSource(queue: .global())
            watchdog.schedule(deadline: .now() + deadline.inSeconds)
            watchdog.setEventHandler { [weak task] in
                exchange.markTimedOut()
                task?.cancel()
            }
            exchange.watchdog = watchdog
            watchdog.resume()
            task.resume()
        }
    }

    private static func result(
        data: Data?,
        response: URLResponse?,
        error: (any Error)?,
        exchange: Exchange,
        deadline: Duration
    ) -> Result<HTTPResponse, TransportFailure> {
        if let error {
            if exchange.timedOut { return .failure(.timedOut("no complete response within \(deadline)")) }
            return .failure(classify(error, deadline: deadline))
        }
        guard let http = response as? HTTPURLResponse else {
            return .failure(.connection("the answer was not an HTTP response"))
        }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            headers[String(describing: name).lowercased()] = String(describing: value)
        }
        return .success(HTTPResponse(status: http.statusCode, headers: headers, body: data ?? Data()))
    }

    /// Maps a URLSession error to retryable or fatal, with a message that names the URLError code
    /// (corelibs errors often have no localized description).
    static func classify(_ error: any Error, deadline: Duration) -> TransportFailure {
        guard let urlError = error as? URLError else {
            return .connection("transport error: \(String(describing: type(of: error)))")
        }
        let code = urlError.code
        let label = "URLError \(code.rawValue)"
        // corelibs reports most libcurl TLS failures (an untrusted certificate, a server that does not speak TLS)
        // as URLError -1; only libcurl's text, kept in the description, says what happened.
        let reason = ResponseMessage.bounded(
            ResponseMessage.collapseWhitespace(urlError.localizedDescription), maxLength: 160)
        let lowered = reason.lowercased()
        if code == .unknown || code == .secureConnectionFailed {
            if lowered.contains("certificate") {
                return .fatal("TLS certificate problem: \(reason) (\(label))")
            }
            if lowered.contains("ssl") || lowered.contains("tls") {
                return .connection("TLS handshake failed: \(reason) (\(label))")
            }
        }
        switch code {
        case .timedOut:
            return .timedOut("timed out waiting for a response (\(label))")
        case .cancelled:
            return .timedOut("request cancelled before completing within \(deadline) (\(label))")
        case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
            .serverCertificateHasUnknownRoot, .clientCertificateRejected, .clientCertificateRequired:
            return .fatal("TLS certificate problem (\(label))")
        case .badURL, .unsupportedURL, .userAuthenticationRequired, .httpTooManyRedirects,
            .redirectToNonExistentLocation, .dataLengthExceedsMaximum:
            return .fatal("request cannot succeed (\(label))")
        case .cannotConnectToHost:
            return .connection("cannot connect to host (\(label))")
        case .networkConnectionLost:
            return .connection("connection lost (\(label))")
        case .cannotFindHost, .dnsLookupFailed:
            return .connection("host lookup failed (\(label))")
        case .notConnectedToInternet:
            return .connection("no network (\(label))")
        case .badServerResponse, .cannotParseResponse, .zeroByteResource:
            return .connection("malformed or truncated response (\(label))")
        case .secureConnectionFailed:
            return .connection("TLS handshake failed (\(label))")
        default:
            return .connection("connection error (\(label))")
        }
    }
}

/// One in-flight exchange: resumes its continuation exactly once and remembers whether the
/// watchdog fired.
private final class Exchange: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Result<HTTPResponse, TransportFailure>, Never>?
    private var didTimeOut = false
    private var pendingWatchdog: (any DispatchSourceTimer)?

    init(continuation: CheckedContinuation<Result<HTTPResponse, TransportFailure>, Never>) {
        self.continuation = continuation
    }

    var watchdog: (any DispatchSourceTimer)? {
        get { lock.withLock { pendingWatchdog } }
        set { lock.withLock { pendingWatchdog = newValue } }
    }

    var timedOut: Bool { lock.withLock { didTimeOut } }

    func markTimedOut() {
        lock.withLock { didTimeOut = true }
    }

    func finish(_ result: Result<HTTPResponse, TransportFailure>) {
        let (pending, watchdog) = lock.withLock {
            () -> (CheckedContinuation<Result<HTTPResponse, TransportFailure>, Never>?, (any DispatchSourceTimer)?) in
            defer {
                continuation = nil
                pendingWatchdog = nil
            }
            return (continuation, pendingWatchdog)
        }
        watchdog?.cancel()
        pending?.resume(returning: result)
    }
}
