-- The tutorial's table, exactly as the FastAPI tutorial created it.
-- IF NOT EXISTS: on a plant that already runs this table, it is adopted as it is;
-- on a new database it is created here and the next migration extends it.
CREATE TABLE IF NOT EXISTS machines (
    id SERIAL PRIMARY KEY,
    machine_name VARCHAR UNIQUE NOT NULL,
    machine_type VARCHAR NOT NULL,
    operational_status VARCHAR NOT NULL,
    efficiency FLOAT NOT NULL,
    last_maintenance TIMESTAMP NOT NULL
);
