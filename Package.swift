// swift-tools-version:6.1
//
// SATR for Swift: gradient-free training of bit-connectivity recurrent spiking networks.
//
// The targets follow the data path (see docs/ARCHITECTURE.md):
//   Randomness -> Spiking -> Search -> Environments (CMuJoCo) -> Training -> Benchmarks -> satr
import PackageDescription

/// Code generation for the hot kernels (measurements and reasons: docs/PERFORMANCE.md).
///
/// Swift on x86_64 targets the baseline x86-64 CPU, which has no POPCNT instruction, so
/// `nonzeroBitCount` becomes a bit-twiddling sequence. Swift takes its code-generation target
/// features from the Clang importer, so `-Xcc` flags choose them:
/// - default on an x86_64 build host: `-Xcc -march=native -Xcc -mprefer-vector-width=512`, the
///   build machine's own instruction set (POPCNT everywhere, AVX-512 VPOPCNTQ where present), and
///   512-bit vectors in auto-vectorized loops where the CPU has them (LLVM otherwise stops at 256
///   bits on AVX-512 CPUs; the network kernel measured 1.5x faster with 512). A normal
///   `swift build -c release` on the machine that runs it gets the hardware popcount; such a
///   binary may stop with an illegal-instruction signal on an older CPU than the one that built it.
/// - `SATR_POPCNT_CPU=1`: the baseline plus POPCNT only (`-Xcc -mpopcnt`), for any x86-64 CPU since
///   2008 (for binaries copied to other machines, e.g. a heterogeneous cluster).
/// - `SATR_PORTABLE_CPU=1`: the baseline, no unsafe flags (correct everywhere, slower; also what a
///   package that depends on this one gets, since SwiftPM refuses unsafe flags in dependencies).
/// - Other architectures (Apple silicon, arm64 Linux: CNT is part of the base ISA) need no flag.
/// The manifest's `#if arch(x86_64)` is the architecture of the building host.
let kernelSettings: [SwiftSetting] = {
    #if arch(x86_64)
    if Context.environment["SATR_PORTABLE_CPU"] == "1" {
        return []
    }
    if Context.environment["SATR_POPCNT_CPU"] == "1" {
        return [.unsafeFlags(["-Xcc", "-mpopcnt"]), .define("SATR_POPCNT")]
    }
    return [.unsafeFlags(["-Xcc", "-march=native", "-Xcc", "-mprefer-vector-width=512"]), .define("SATR_NATIVE_CPU")]
    #else
    return []
    #endif
}()

let package = Package(
    name: "SATR",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "satr", targets: ["satr"]),
        .library(name: "SATRKit", targets: ["Randomness", "Spiking", "Search", "Environments", "Training"]),
    ],
    // Opt-in distributed training over MPI (docs/DISTRIBUTED.md): `swift build --traits MPI`.
    // A package trait, not a separate package or a -D flag: it switches one conditional target
    // dependency (CMPI) and one compilation condition (`#if MPI`) in the same targets, so the default
    // build and `swift test` never need Open MPI, and the MPI build is one documented flag.
    traits: [
        .trait(name: "MPI", description: "Distributed population evaluation over MPI (needs libopenmpi-dev)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Counter-based random streams keyed by (seed, generation, member, purpose).
        .target(name: "Randomness", swiftSettings: kernelSettings),

        // Network shapes and constants, the bitset kernel, the Float32 reference, DenseSNN.
        .target(name: "Spiking", dependencies: ["Randomness"], swiftSettings: kernelSettings),

        // Search distributions, fitness shaping and the SATR / EC / ES update rules.
        .target(
            name: "Search",
            dependencies: ["Randomness"],
            swiftSettings: kernelSettings),

        // MuJoCo's C API (Debian: libmujoco-dev; no pkg-config file, so the module map links it).
        .systemLibrary(
            name: "CMuJoCo",
            providers: [.apt(["libmujoco-dev"])]),

        // The HDF5 C library (Debian: libhdf5-dev, serial build), for `satr export --format nir`.
        .systemLibrary(
            name: "CHDF5",
            providers: [.apt(["libhdf5-dev"])]),

        // The Gymnasium v5 MuJoCo tasks and the project's own MJCF model files.
        .target(
            name: "Environments",
            dependencies: ["CMuJoCo", "Randomness", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Models")]),

        // Population evaluation, normalization, checkpoints, metrics, plots.
        .target(
            name: "Training",
            dependencies: [
                "Randomness", "Spiking", "Search", "Environments",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Presets")],
            swiftSettings: kernelSettings),

        // MPI's C API (Debian: libopenmpi-dev); built only with the "MPI" trait.
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),

        // Process groups (single process, or MPI ranks with the "MPI" trait) and the distributed
        // population evaluation that keeps results bit-identical for any number of processes.
        .target(
            name: "Cluster",
            dependencies: [
                "Randomness", "Search", "Training",
                .target(name: "CMPI", condition: .when(traits: ["MPI"])),
            ]),

        // `mpirun -np P MPISelfTest`: checks every MPI collective the Cluster module uses.
        .executableTarget(
            name: "MPISelfTest",
            dependencies: ["Cluster", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),

        // The measurements behind `satr bench` (network kernels, environment layer, optimizers,
        // training loop), as functions from settings to Codable results.
        .target(
            name: "Benchmarks",
            dependencies: ["Randomness", "Spiking", "Search", "Environments", "Training"],
            swiftSettings: kernelSettings),

        // The command-line tool.
        .executableTarget(
            name: "satr",
            dependencies: [
                "Randomness", "Spiking", "Search", "Environments", "Training", "Benchmarks", "Cluster", "CHDF5",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: kernelSettings),

        .testTarget(name: "RandomnessTests", dependencies: ["Randomness"]),
        .testTarget(name: "SpikingTests", dependencies: ["Spiking", "Randomness"]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "Randomness"]),
        .testTarget(
            name: "EnvironmentsTests",
            dependencies: ["Environments", "CMuJoCo"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Spiking", "Search", "Environments"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Training", "Environments"]),
        .testTarget(name: "CLITests", dependencies: ["satr"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Randomness", "Search", "Training"]),
    ]
)
