// swift-tools-version:6.1
//
// A package that depends on SATR by path and uses SATRKit, as a user's package would. Built and run
// by scripts/test-consumer.sh (`swift build --package-path Tests/ConsumerPackage`), which also
// checks that SATR's manifest has no unsafeFlags (SwiftPM accepts them from a path dependency but
// refuses them from a versioned one). The kernels choose their CPU level at run time instead:
// docs/PERFORMANCE.md, "Runtime dispatch".
import PackageDescription

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "SATR", path: "../..")],
    targets: [
        .executableTarget(name: "Consumer", dependencies: [.product(name: "SATRKit", package: "SATR")]),
    ]
)
