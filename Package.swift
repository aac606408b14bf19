// swift-tools-version:6.0
// referral-sync: keeps Okendo referral attributes in Attentive right, every night.
// No package dependencies by design: libpq and libcurl through system libraries.
import PackageDescription

/// The Swift server projects' upcoming features, where the code already holds to them.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "ReferralSync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "referral-sync", targets: ["referral-sync"]),
        .executable(name: "attentive-simulator", targets: ["attentive-simulator"]),
        .library(name: "ReferralSyncJob", targets: ["ReferralSyncJob"]),
        .library(name: "AttentiveSimulator", targets: ["AttentiveSimulator"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // HTTP: libcurl's multi interface on a thread of its own (Sources/Attentive/Curl/).
        .systemLibrary(
            name: "CLibCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        .target(name: "ReferralModel"),
        .target(name: "ReferralStore", dependencies: ["Postgres", "ReferralModel"], plugins: ["EmbedSQL"]),
        // sql/ compiled into typed accessors at build time (Tools/embed-sql, Foundation only): nothing generated
        // is committed, and the binary still carries its SQL.
        .executableTarget(name: "embed-sql", dependencies: [], path: "Tools/embed-sql"),
        .plugin(name: "EmbedSQL", capability: .buildTool(), dependencies: ["embed-sql"], path: "Plugins/EmbedSQL"),
        .target(name: "Attentive", dependencies: ["CLibCurl"]),
        .target(name: "Reports"),
        .target(name: "Options", swiftSettings: strictSettings),
        .target(
            name: "ReferralSyncJob",
            dependencies: ["Postgres", "ReferralModel", "ReferralStore", "Attentive", "Reports", "Options"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ReferralSyncCLI",
            dependencies: ["Options", "ReferralSyncJob", "Postgres", "ReferralModel", "ReferralStore", "Attentive"],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "referral-sync", dependencies: ["ReferralSyncCLI", "ReferralSyncJob"]),
        .target(name: "AttentiveSimulator", swiftSettings: strictSettings),
        .executableTarget(
            name: "attentive-simulator", dependencies: ["AttentiveSimulator", "Options"], swiftSettings: strictSettings),

        .target(name: "TestSupport", dependencies: ["Postgres", "AttentiveSimulator"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "ReferralModelTests", dependencies: ["ReferralModel"]),
        // Fixtures: the migrations as released before the rules moved to sql/definitions (the upgrade test).
        .testTarget(
            name: "ReferralStoreTests", dependencies: ["ReferralStore", "AttentiveSimulator", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "AttentiveTests", dependencies: ["Attentive", "AttentiveSimulator", "ReferralModel", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "TestSupport"]),
        .testTarget(name: "OptionsTests", dependencies: ["Options"]),
        .testTarget(
            name: "ReferralSyncCLITests",
            dependencies: ["ReferralSyncCLI", "ReferralSyncJob", "ReferralModel", "ReferralStore", "Options"]),
        .testTarget(
            name: "ReferralSyncJobTests",
            dependencies: [
                "ReferralSyncJob", "ReferralSyncCLI", "Options", "ReferralStore", "ReferralModel", "Attentive",
                "Postgres", "AttentiveSimulator",
                "TestSupport",
            ],
            // Fixtures: attributes.csv as the job wrote it before issue 27 (the byte-for-byte test).
            exclude: ["Fixtures"]
        ),
        // Drives the built `referral-sync` executable as a scheduler would (build it first: `swift build`).
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["Postgres", "ReferralSyncJob", "Reports", "AttentiveSimulator", "TestSupport"]),
        .testTarget(name: "AttentiveSimulatorTests", dependencies: ["AttentiveSimulator", "TestSupport"]),
    ]
)
