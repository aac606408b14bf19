import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A run's report folder that appears complete or not at all.
///
/// Files are written into `DIR/.incomplete-<run id>/`; ``publish()`` syncs them, renames the folder to
/// `DIR/<run id>/` (atomic on one file system) and then atomically repoints the `DIR/latest` symlink. A run
/// killed before publishing leaves only a dot-folder that readers ignore and the next run removes.
public final class ReportFolder {
    /// The reports directory (`--reports-dir`).
    public let root: String
    /// This run's id, which names the published folder.
    public let runID: String
    /// Where files are written until the folder is published.
    public let workingPath: String
    /// Where the folder is once published.
    public var publishedPath: String { root + "/" + runID }

    /// Creates the working folder, and the reports directory if needed.
    public init(root: String, runID: String) throws {
        self.root = root
        self.runID = runID
        workingPath = root + "/.incomplete-" + runID
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: workingPath, withIntermediateDirectories: true)
        } catch {
            throw ReportError(path: root, reason: "\(error.localizedDescription)")
        }
    }

    /// The path of `name` inside the working folder.
    public func path(_ name: String) -> String { workingPath + "/" + name }

    /// Makes the folder visible under its run id and points `latest` at it.
    public func publish() throws {
        syncDirectory(workingPath)
        guard rename(workingPath, publishedPath) == 0 else {
            throw ReportError(path: publishedPath, reason: String(cString: strerror(errno)))
        }
        let temporaryLink = root + "/.latest-" + runID
        unlink(temporaryLink)
        guard symlink(runID, temporaryLink) == 0, rename(temporaryLink, root + "/latest") == 0 else {
            throw ReportError(path: root + "/latest", reason: String(cString: strerror(errno)))
        }
        syncDirectory(root)
    }

    /// Deletes published run folders beyond the newest `keep` (run ids sort by time). `latest` is never removed.
    public func prune(keep: Int) {
        guard keep > 0, let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        let runs = names.filter {
            !$0.hasPrefix(".") && $0 != "latest" && $0 != "bench" && ReportFolder.looksLikeRunID($0)
        }
        .sorted()
        for name in runs.dropLast(keep) where name != runID {
            try? FileManager.default.removeItem(atPath: root + "/" + name)
        }
        ReportFolder.removeAbandoned(in: root, olderThan: 6 * 3600)
    }

    /// Whether `name` has the shape of a run id (`20261127T043000Z-…`).
    public static func looksLikeRunID(_ name: String) -> Bool {
        name.count > 17 && name.prefix(8).allSatisfy(\.isNumber) && name.dropFirst(8).first == "T"
    }

    /// Removes working folders of runs that died before publishing. Only old ones: a concurrent run (another
    /// shard writing to the same directory) may still be filling its own.
    static func removeAbandoned(in root: String, olderThan seconds: TimeInterval) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        for name in names where name.hasPrefix(".incomplete-") || name.hasPrefix(".latest-") {
            let path = root + "/" + name
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let modified = attributes?[.modificationDate] as? Date ?? .distantFuture
            if Date().timeIntervalSince(modified) > seconds { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    private func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}
