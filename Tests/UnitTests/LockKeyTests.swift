import Database
import Testing

/// Expected keys were computed outside Swift: Python `struct.unpack('>q', sha256(b'signalbridge:' + name)[:8])`.
/// The integration tests check that the SQL function `signalbridge_lock_key` gives the same values.
@Suite struct LockKeyTests {
    @Test(arguments: [
        (LockName.migrations, Int64(-965_858_696_036_164_711)),
        (.reconcile, 5_709_176_484_657_817_757),
        (.deadLetterRetry, -359_702_920_441_309_903),
        (.dailyReport, 18_046_971_054_424_626),
    ])
    func knownKeys(name: LockName, key: Int64) {
        #expect(name.key == key)
    }

    @Test func emptyNameVector() {
        #expect(LockName.key(for: "") == -439_441_611_813_788_076)
    }

    @Test func registryKeysAreDistinct() {
        let keys = LockName.allCases.map(\.key)
        #expect(Set(keys).count == keys.count)
    }
}
