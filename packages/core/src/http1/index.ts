export { ChunkedDecoder } from './chunked.js'
export type { DispatchHandler, Exchange } from './exchange.js'
export { Http1Pool, type Http1PoolOptions, type Http1Request } from './pool.js'
export { parseResponseHead, type ResponseHead } from './response-head.js'
