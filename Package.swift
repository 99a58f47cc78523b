// swift-tools-version:6.1
//
// SATR for Swift: gradient-free training of bit-connectivity recurrent spiking networks.
//
// The targets follow the data path (see docs/ARCHITECTURE.md):
//   Randomness -> Spiking -> Search -> Environments (CMuJoCo) -> Training -> Benchmarks -> satr
import PackageDescription

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
        // The hot kernels in C (recurrent AND + popcount and neuron update, statistics accumulation,
        // Bernoulli sampling), compiled for several x86-64 levels (baseline, POPCNT + SSE4.2, AVX2, AVX-512 with
        // VPOPCNTDQ) through per-function target attributes in the source and chosen at start from
        // CPUID (docs/PERFORMANCE.md, "Runtime dispatch"). No target uses unsafeFlags: a plain
        // `swift build -c release` binary runs on any CPU of its architecture at that CPU's best
        // level, and a package that depends on this one builds.
        .target(name: "CKernels"),

        // Counter-based random streams keyed by (seed, generation, member, purpose).
        .target(name: "Randomness"),

        // Network shapes and constants, the bitset kernel, the Float32 reference, DenseSNN.
        .target(name: "Spiking", dependencies: ["Randomness", "CKernels"]),

        // Search distributions, fitness shaping and the SATR / EC / ES update rules.
        .target(
            name: "Search",
            dependencies: ["Randomness", "CKernels"]),

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
            resources: [.copy("Presets")]),

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
            dependencies: ["Randomness", "Spiking", "Search", "Environments", "Training"]),

        // The command-line tool.
        .executableTarget(
            name: "satr",
            dependencies: [
                "Randomness", "Spiking", "Search", "Environments", "Training", "Benchmarks", "Cluster", "CHDF5",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(name: "RandomnessTests", dependencies: ["Randomness"]),
        .testTarget(name: "SpikingTests", dependencies: ["Spiking", "Randomness"]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "Randomness", "Spiking"]),
        .testTarget(
            name: "EnvironmentsTests",
            dependencies: ["Environments", "CMuJoCo"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Spiking", "Search", "Environments"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Training", "Environments", "Spiking"]),
        .testTarget(name: "CLITests", dependencies: ["satr"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Randomness", "Search", "Training"]),
    ]
)
