-- Every landed agriculture row once, whatever its system and table: (system, table, record_id)
-- with its report date and current commune, de-duplicated (a re-sent row keeps the latest run).
-- The delivery facts and OPS-AGRI-SYSTEMS-OPERATING count from it.
{%- set agri_models = [
    'stg_agri_bvtv01__pest_outbreak',
    'stg_agri_bvtv01__light_trap_summary',
    'stg_agri_bvtv02__pesticide_dealer',
    'stg_agri_bvtv02__pesticide_inspection',
    'stg_agri_cn01__livestock_census',
    'stg_agri_cn01__livestock_farm',
    'stg_agri_cn01__feed_mill',
    'stg_agri_dt01__crop_area',
    'stg_agri_dt01__pest_outbreak',
    'stg_agri_dt01__plant_quarantine',
    'stg_agri_dt01__livestock_census',
    'stg_agri_dt01__vaccination',
    'stg_agri_dt01__disease_report',
    'stg_agri_dt01__aquaculture_pond',
    'stg_agri_dt01__aquaculture_output',
    'stg_agri_dt01__forest_cover',
    'stg_agri_dt01__irrigation_work',
    'stg_agri_dt01__disaster_damage',
    'stg_agri_dt01__ncd_criteria',
    'stg_agri_dt01__ocop_product',
    'stg_agri_dt01__cooperative',
    'stg_agri_dt01__market_price',
    'stg_agri_dt02__production_area_code',
    'stg_agri_dt02__area_harvest_sale',
    'stg_agri_dt03__market_price',
    'stg_agri_dt03__market_bulletin',
    'stg_agri_dt04__extension_training',
    'stg_agri_dt04__demo_model',
    'stg_agri_dt05__smart_village_service',
    'stg_agri_dt05__farm_household',
    'stg_agri_dt06__ocop_listing',
    'stg_agri_dt06__marketplace_order',
    'stg_agri_dt07__agricultural_machinery',
    'stg_agri_dt07__land_use',
    'stg_agri_dt08__gate_operation',
    'stg_agri_dt08__pumping_station',
    'stg_agri_dt09__vaccination',
    'stg_agri_dt09__livestock_census',
    'stg_agri_htx01__cooperative',
    'stg_agri_htx01__cooperative_sales',
    'stg_agri_kdtv01__plant_quarantine',
    'stg_agri_kdtv01__phyto_certificate',
    'stg_agri_kl01__forest_cover',
    'stg_agri_kl01__forest_change',
    'stg_agri_kl02__forest_fire_risk',
    'stg_agri_kl02__fire_incident',
    'stg_agri_msvt01__production_area_code',
    'stg_agri_msvt01__packing_house',
    'stg_agri_ntm01__ncd_criteria',
    'stg_agri_ntm01__ncd_investment',
    'stg_agri_ocop01__ocop_product',
    'stg_agri_ocop01__ocop_listing',
    'stg_agri_pctt01__disaster_damage',
    'stg_agri_pctt01__dyke_incident',
    'stg_agri_tl01__irrigation_work',
    'stg_agri_tl01__gate_operation',
    'stg_agri_tl01__pumping_station',
    'stg_agri_ts01__aquaculture_pond',
    'stg_agri_ts01__aquaculture_output',
    'stg_agri_ts01__hatchery',
    'stg_agri_ts02__fishing_vessel',
    'stg_agri_ts02__fishing_licence',
    'stg_agri_ts03__pangasius_batch',
    'stg_agri_ts03__aquaculture_output',
    'stg_agri_tt01__crop_area',
    'stg_agri_tt01__rice_seed',
    'stg_agri_tt01__fertilizer_use',
    'stg_agri_ty01__disease_report',
    'stg_agri_ty01__outbreak_response',
    'stg_agri_ty02__vaccination',
    'stg_agri_ty02__vaccine_stock',
    'stg_agri_ty03__animal_movement',
    'stg_agri_ty03__slaughterhouse'
] %}

with unioned as (
    {%- for model_name in agri_models %}
        select
            system_code,
            table_name,
            record_id,
            report_date,
            district_code,
            sent_commune_code,
            commune_code,
            run_id
        from {{ ref(model_name) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select distinct on (system_code, table_name, record_id) *
from unioned
order by system_code asc, table_name asc, record_id asc, run_id desc
