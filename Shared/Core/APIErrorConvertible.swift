/// An error that knows how it should appear in the error contract (e.g. database errors → `SYS_5002`).
/// Errors that are neither this nor `APIError` become `500 SYS_5001` and are logged in full.
public protocol APIErrorConvertible: Error {
    var apiError: APIError { get }
}
