import Foundation
import Synchronization

/// One attribute update for one user: the identifiers it names and the attributes to upsert.
struct ProfileUpdate: Sendable, Equatable {
    var email: String?
    var phone: String?
    var attributes: [(name: String, value: String)]

    static func == (lhs: ProfileUpdate, rhs: ProfileUpdate) -> Bool {
        lhs.email == rhs.email && lhs.phone == rhs.phone
            && lhs.attributes.map(\.name) == rhs.attributes.map(\.name)
            && lhs.attributes.map(\.value) == rhs.attributes.map(\.value)
    }
}

/// Thread-safe store of simulated users, indexed by email and by phone (both exact, case-sensitive).
///
/// An update goes to the profile found by its email, else by its phone, else to a new profile. The update's other
/// identifier is then linked to that profile when the profile has none yet and no other profile owns it.
/// Attributes merge: each name is upserted, names not mentioned are kept.
final class ProfileStore: Sendable {
    private struct State {
        var profiles: [Int: SimulatedProfile] = [:]
        var byEmail: [String: Int] = [:]
        var byPhone: [String: Int] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Applies one update. Updates with neither email nor phone are ignored (returns false).
    @discardableResult
    func apply(_ update: ProfileUpdate) -> Bool {
        state.withLock { state in ProfileStore.apply(update, to: &state) }
    }

    /// Applies several updates atomically, in order. Returns how many were stored.
    @discardableResult
    func apply(_ updates: [ProfileUpdate]) -> Int {
        state.withLock { state in updates.reduce(0) { $0 + (ProfileStore.apply($1, to: &state) ? 1 : 0) } }
    }

    private static func apply(_ update: ProfileUpdate, to state: inout State) -> Bool {
        guard update.email != nil || update.phone != nil else { return false }
        let id: Int
        if let email = update.email, let existing = state.byEmail[email] {
            id = existing
        } else if let phone = update.phone, let existing = state.byPhone[phone] {
            id = existing
        } else {
            id = state.nextID
            state.nextID += 1
            state.profiles[id] = SimulatedProfile()
        }
        guard var profile = state.profiles[id] else { return false }
        if let email = update.email, profile.email == nil, state.byEmail[email] == nil {
            profile.email = email
            state.byEmail[email] = id
        }
        if let phone = update.phone, profile.phone == nil, state.byPhone[phone] == nil {
            profile.phone = phone
            state.byPhone[phone] = id
        }
        for attribute in update.attributes { profile.attributes[attribute.name] = attribute.value }
        state.profiles[id] = profile
        return true
    }

    /// The profile owning `email`.
    func profile(email: String) -> SimulatedProfile? {
        state.withLock { state in state.byEmail[email].flatMap { state.profiles[$0] } }
    }

    /// The profile owning `phone`.
    func profile(phone: String) -> SimulatedProfile? {
        state.withLock { state in state.byPhone[phone].flatMap { state.profiles[$0] } }
    }

    /// Every profile, sorted by email then phone (profiles without email last).
    func all() -> [SimulatedProfile] {
        let profiles = state.withLock { Array($0.profiles.values) }
        return profiles.sorted { lhs, rhs in
            switch (lhs.email, rhs.email) {
            case (let left?, let right?) where left != right: return left < right
            case (.some, .none): return true
            case (.none, .some): return false
            default: return (lhs.phone ?? "") < (rhs.phone ?? "")
            }
        }
    }

    /// Removes the profiles owning `email` or `phone` (a processed deletion request), with their identifiers.
    func remove(email: String?, phone: String?) {
        state.withLock { state in
            let ids = Set([email.flatMap { state.byEmail[$0] }, phone.flatMap { state.byPhone[$0] }].compactMap { $0 })
            for id in ids {
                guard let profile = state.profiles.removeValue(forKey: id) else { continue }
                if let owned = profile.email { state.byEmail[owned] = nil }
                if let owned = profile.phone { state.byPhone[owned] = nil }
            }
        }
    }

    /// Removes every profile.
    func removeAll() {
        state.withLock { $0 = State() }
    }
}
