-- 003: internal symbols (BASE/QUOTE) and their names on each exchange. A signal's symbol is tradable on an
-- exchange only when a row says so; operators add rows as markets are enabled.
CREATE TABLE exchange_symbols (
    symbol          VARCHAR(21) NOT NULL,   -- internal form, e.g. 'BTC/USDT'
    exchange        VARCHAR(20) NOT NULL,
    exchange_symbol VARCHAR(30) NOT NULL,   -- e.g. 'BTCUSDT'
    is_enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    PRIMARY KEY (symbol, exchange),
    UNIQUE (exchange, exchange_symbol),
    CONSTRAINT valid_exchange CHECK (exchange IN ('mexc', 'binance')),
    CONSTRAINT valid_symbol CHECK (symbol ~ '^[A-Z]{2,10}/[A-Z]{2,10}$')
);

INSERT INTO exchange_symbols (symbol, exchange, exchange_symbol) VALUES
    ('BTC/USDT', 'binance', 'BTCUSDT'), ('BTC/USDT', 'mexc', 'BTCUSDT'),
    ('ETH/USDT', 'binance', 'ETHUSDT'), ('ETH/USDT', 'mexc', 'ETHUSDT'),
    ('LTC/USDT', 'binance', 'LTCUSDT'), ('LTC/USDT', 'mexc', 'LTCUSDT');
