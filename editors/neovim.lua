-- lightdsl in Neovim (0.10+ with nvim-lspconfig): put this in your init.lua.
vim.filetype.add({ extension = { lit = "lightdsl" } })

local configs = require("lspconfig.configs")
if not configs.lightdsl then
  configs.lightdsl = {
    default_config = {
      cmd = { "lightdsl", "lsp" },
      filetypes = { "lightdsl" },
      root_dir = require("lspconfig.util").root_pattern("pyproject.toml", ".git"),
      single_file_support = true,
    },
  }
end
require("lspconfig").lightdsl.setup({})
-- format on save:  vim.api.nvim_create_autocmd("BufWritePre", { pattern = "*.lit",
--   callback = function() vim.lsp.buf.format() end })
