-- One database per service, as in the real systems.
CREATE DATABASE edusim_onde OWNER edusim;
CREATE DATABASE edusim_educonnect OWNER edusim;
CREATE DATABASE edusim_sync OWNER edusim;
