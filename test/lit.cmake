# lit + FileCheck from llvm-22-tools; `ninja check-ftc` runs every lit test.
set(FTC_LIT_DEPENDS ftc ftc-opt ftc-trace ftc_plugin_mlp ftc_plugin_idx ftc_plugin_bert
  ftc_plugin_tensors ftc_plugin_text-classification ftc-tokenizer-golden
  ftc-bpe-golden ftc-dataset-dump ftc_plugin_causal-lm ftc_plugin_image-folder)
foreach(p missing_symbol version_mismatch null_query duplicate_name null_function)
  list(APPEND FTC_LIT_DEPENDS ftc_plugin_${p})
endforeach()
configure_lit_site_cfg(
  ${CMAKE_CURRENT_SOURCE_DIR}/lit.site.cfg.py.in
  ${CMAKE_CURRENT_BINARY_DIR}/lit.site.cfg.py
  MAIN_CONFIG ${CMAKE_CURRENT_SOURCE_DIR}/lit.cfg.py)
add_lit_testsuite(check-ftc "Running the ftc lit tests"
  ${CMAKE_CURRENT_BINARY_DIR} DEPENDS ${FTC_LIT_DEPENDS})
