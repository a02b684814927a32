//! azurerm provider
