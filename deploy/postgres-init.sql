-- One database per service. The postgres image runs this once, as POSTGRES_USER (plp, who then
-- owns the three databases), when it initialises an empty data directory; `plp migrate` creates
-- the tables.
CREATE DATABASE profile;
CREATE DATABASE pathway;
CREATE DATABASE progress;
