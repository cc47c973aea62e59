{#-
    Great-circle distance in metres between two WGS-84 points given in
    degrees, by the haversine formula on a sphere of the mean Earth radius
    (IUGG, 6 371 008.8 m). Within a city the error against the ellipsoid is
    under 0.5 %, far below the precision of a service radius; no PostGIS
    needed. least(1, …) guards asin against rounding just above 1.
-#}
{% macro great_circle_distance_m(lat_1, lng_1, lat_2, lng_2) -%}
    (2 * 6371008.8 * asin(least(1.0, sqrt(
        power(sin(radians(({{ lat_2 }})::float8 - ({{ lat_1 }})::float8) / 2), 2)
        + cos(radians(({{ lat_1 }})::float8)) * cos(radians(({{ lat_2 }})::float8))
        * power(sin(radians(({{ lng_2 }})::float8 - ({{ lng_1 }})::float8) / 2), 2)
    ))))
{%- endmacro %}


{#-
    Metres in one degree of latitude (and of longitude at the equator) on the
    same sphere: 2π × 6 371 008.8 / 360.
-#}
{% macro metres_per_degree() -%}
    111195.08
{%- endmacro %}
